"""Who did it, as a reader sees it: `by` (a user id, or null for the system) becomes `by_name`.

History entries and decisions store the acting user's id; a page needs a name. One place turns
ids into names for every feature: the staff account's name for staff, 学员本人 for the trainee the
entry is about, 系统 for automatic changes (closing, timetable-driven status). Names are looked up
when read, so a corrected account name shows everywhere.
"""

from service.staff import repository

SYSTEM = "系统"
SELF = "学员本人"
OTHER = "其他用户"


def resolver(user_ids, *, subject_user_id=None):
    """A function user_id -> display name, for the ids of one answer (one query for all of them)."""
    wanted = {u for u in user_ids if u is not None and u != subject_user_id}
    names = repository.names_of_users(wanted) if wanted else {}

    def name(user_id):
        if user_id is None:
            return SYSTEM
        if user_id == subject_user_id:
            return SELF
        return names.get(user_id) or OTHER

    return name


def with_by_names(entries, *, subject_user_id=None, key="by"):
    """The entries (dicts with `by`), each with `by_name` added."""
    entries = list(entries or [])
    name = resolver((e.get(key) for e in entries), subject_user_id=subject_user_id)
    return [{**e, f"{key}_name": name(e.get(key))} for e in entries]


def add_by_names(docs, *, fields, subject_key="user_id"):
    """Documents (a leave request, a registration, an attendance record, ...) with `by_name` added to
    each entry of their `fields` (lists of dicts with `by`); the entries about the document's own
    trainee (`subject_key`) say 学员本人. One query for all the documents."""
    docs = list(docs)
    ids = {e.get("by") for d in docs for f in fields for e in (d.get(f) or [])
           if isinstance(e, dict) and e.get("by") not in (None, d.get(subject_key))}
    names = repository.names_of_users(ids) if ids else {}
    out = []
    for doc in docs:
        subject = doc.get(subject_key)

        def name(user_id):
            if user_id is None:
                return SYSTEM
            if user_id == subject:
                return SELF
            return names.get(user_id) or OTHER

        out.append({**doc, **{f: [{**e, "by_name": name(e.get("by"))} for e in doc.get(f) or []]
                              for f in fields if f in doc}})
    return out
