"""Quota places kept true to the registrations that hold them (issue 14 §3).

A class's quota names the registrations it counts (`holders`, service.classes.repository) and a
request takes or gives back a place in one conditional update, but the registration is a second
document and MongoDB has no transaction here. When the database fails between the two and the
request's own compensation fails too, the two disagree:
  - a place stays taken by a registration that no longer holds one (a recommendation whose
    registration write and give-back both failed, the registration then rejected or withdrawn);
  - a place is given back while the registration still counts (a cancellation whose state change
    and re-take both failed).
And quotas written before `holders` existed count places (`used`) without naming them.

`migrate` (at start, beside the indexes) rebuilds every quota whose `used` differs from its list of
holders from the registrations that hold a place (state in COUNTED); idempotent: a second run finds
nothing to change. `reconcile` (the worker) gives back the places of registrations in a final
state and gives a place back to counted registrations without one.

Safe beside requests and on two workers at once: every change is one conditional update per
registration (given back only while that registration holds the place, taken only while it does
not), so nothing is counted twice. A final state is terminal, so giving its place back is never
wrong. A registration caught between a request's two writes may be corrected one way and then
back the other, but every round converges on the registrations' states. A registration still
submitted that holds a place (its recommendation failed half-way) is left alone: sending the
recommendation again counts that place (HELD_ALREADY), and ending the registration lets the next
round give it back.
"""

from collections import defaultdict

from service.classes import repository as classes_repo
from service.core.db import declare_migration
from service.registrations import repository
from service.registrations.states import COUNTED, FINAL

# Classes whose registrations can still move; finished classes keep the counts they ended with.
RECONCILED_STATUSES = ("published", "in_progress")


def _mismatched(tables):
    """{class id: [region codes]} of the quotas whose `used` differs from their list of holders."""
    found = defaultdict(list)
    for doc in tables:
        for code, quota in (doc.get("quotas") or {}).items():
            if quota.get("used", 0) != len(quota.get("holders") or []):
                found[doc["_id"]].append(code)
    return found


@declare_migration
def migrate(*, class_ids=None):
    """Rebuild `holders` (and `used` as their number) of every quota that disagrees with its list,
    from the registrations holding a place; the number of quotas changed."""
    mismatched = _mismatched(classes_repo.quota_tables(class_ids=class_ids))
    if not mismatched:
        return 0
    holding = defaultdict(list)
    for registration in repository.counted_in_classes(list(mismatched)):
        holding[(registration["class_id"], registration.get("region_code"))].append(registration["_id"])
    return sum(classes_repo.add_quota_holders(class_id=class_id, region_code=code,
                                              registration_ids=holding[(class_id, code)])
               for class_id, codes in mismatched.items() for code in codes)


def reconcile():
    """Give back the places of registrations that no longer hold one, and put back the places of
    counted registrations that lost theirs, in the classes still taking registrations:
    {"released": n, "taken": n, "rebuilt": quotas rebuilt by `migrate`}."""
    class_ids = [doc["_id"] for doc in classes_repo.quota_tables(statuses=RECONCILED_STATUSES)]
    if not class_ids:
        return {"released": 0, "taken": 0, "rebuilt": 0}
    rebuilt = migrate(class_ids=class_ids)
    held, quotas = set(), set()
    for doc in classes_repo.quota_tables(class_ids=class_ids):
        for code, quota in (doc.get("quotas") or {}).items():
            quotas.add((doc["_id"], code))
            held.update((doc["_id"], code, holder) for holder in quota.get("holders") or [])
    counted = {(r["class_id"], r.get("region_code"), r["_id"]) for r in repository.counted_in_classes(class_ids)
               if (r["class_id"], r.get("region_code")) in quotas}  # a place only in a quota that exists
    leftovers = held - counted
    states = repository.states_of({registration_id for _, _, registration_id in leftovers})
    # A final state is terminal; a registration that no longer exists holds nothing either.
    released = sum(classes_repo.release_quota_place(class_id=class_id, region_code=code, registration_id=rid)
                   for class_id, code, rid in leftovers if states.get(rid) is None or states[rid] in FINAL)
    lost = counted - held
    # Read again just before: a registration that ended while this round read the classes has
    # given its place back on purpose (a re-take then would only be given back next round).
    still_counted = {rid for rid, state in repository.states_of({rid for _, _, rid in lost}).items()
                     if state in COUNTED}
    taken = sum(classes_repo.take_quota_place(class_id=class_id, region_code=code, registration_id=rid,
                                              even_if_full=True) == classes_repo.TAKEN
                for class_id, code, rid in lost if rid in still_counted)
    return {"released": released, "taken": taken, "rebuilt": rebuilt}
