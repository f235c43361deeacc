"""Nothing half-written (issue 14 §3) for a rating: submitting writes the who-rated receipt, then the
anonymous rating. A fault on the rating takes the receipt back (503, nothing stored); if taking it
back fails too (a longer outage), the receipt is left without its rating, and the same request sent
again finishes it (201, one receipt and one rating) instead of answering ALREADY_RATED for a rating
that does not exist."""

from tests.conftest import bearer
from tests.fixtures.faults import assert_unavailable
from tests.ratings.test_ratings_api import nothing_written, rate_class, rate_session


def _one_each(db):
    assert db.rating_receipts.count_documents({}) == 1
    assert db.ratings.count_documents({}) == 1


# rating a session: 1 the receipt, 2 the rating, 3 the report version bump (best effort)
def test_rating_whose_rating_write_fails_leaves_nothing_and_a_retry_rates_once(client, db, ended_class, mark,
                                                                                 fail_write):
    klass = ended_class()
    mark(klass, 0, 0, "present")
    with fail_write(2, commands=["insert"]):
        assert_unavailable(rate_session(client, klass.trainees[0], klass.session_ids[0], stars=4))
    nothing_written(db)
    again = rate_session(client, klass.trainees[0], klass.session_ids[0], stars=4)
    assert again.status_code == 201, again.json
    _one_each(db)
    assert db.ratings.find_one({})["stars"] == 4


def test_receipt_left_without_its_rating_is_finished_by_sending_it_again(client, db, ended_class, mark,
                                                                           fail_write, write_attempts):
    klass = ended_class()
    trainee = klass.trainees[0]
    # The rating's insert and the receipt's removal both fail (every attempt of each).
    with fail_write(2, times=2 * write_attempts, commands=["insert", "delete"]):
        assert_unavailable(rate_class(client, trainee, klass.id, scores=(5, 4, 5, 3)))
    assert db.rating_receipts.count_documents({}) == 1 and db.ratings.count_documents({}) == 0
    again = rate_class(client, trainee, klass.id, scores=(5, 4, 5, 3))
    assert again.status_code == 201, again.json
    assert again.json["scores"] == {"course_design": 5, "faculty": 4, "organisation": 5, "effect": 3}
    _one_each(db)
    mine = client.get(f"/api/v1/classes/{klass.id}/rating", headers=bearer(trainee.token))
    assert mine.status_code == 200 and mine.json["scores"]["effect"] == 3
    repeat = rate_class(client, trainee, klass.id)
    assert repeat.status_code == 409 and repeat.json["code"] == "ALREADY_RATED"
    _one_each(db)
