"""Who did it: `by_name` beside every `by` of a history entry or decision (service.staff.names)."""

from marshmallow import fields, pre_dump

from service.staff import names

BY_NAME_DESCRIPTION = "who did it, to show: the staff account's name, 学员本人 (the trainee this is about) or 系统"


def by_name_field():
    return fields.String(metadata={"description": BY_NAME_DESCRIPTION})


class WithByNames:
    """Mixin for a schema of documents whose `BY_NAME_FIELDS` hold entries with `by`: adds `by_name`
    to each entry before dumping, one staff look-up per dump (also for a page of many)."""

    BY_NAME_FIELDS = ("history",)

    @pre_dump(pass_collection=True)
    def _add_by_names(self, data, many, **kwargs):
        if many:
            return names.add_by_names(data, fields=self.BY_NAME_FIELDS)
        return names.add_by_names([data], fields=self.BY_NAME_FIELDS)[0]
