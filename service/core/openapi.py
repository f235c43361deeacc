"""How the OpenAPI document describes answers: every answer field is required (the service
sends each field of an answer schema, `null` when empty — see schemas.base), so a client
generated from the document can rely on it. Request schemas (schemas.base.BaseSchema) keep
marshmallow's own `required`."""

from apispec import BasePlugin

from schemas.base import SOMETIMES, BaseSchema, PatchSchema


class AnswerFieldsRequired(BasePlugin):
    def schema_helper(self, name, definition, **kwargs):
        schema = kwargs.get("schema")
        instance = schema() if isinstance(schema, type) else schema
        if isinstance(instance, PatchSchema):
            return {"minProperties": 1}  # a PATCH without a field to change is refused (NO_CHANGES)
        if instance is None or isinstance(instance, BaseSchema):
            return None
        properties = definition.get("properties") or {}
        required = [field.data_key or name for name, field in instance.fields.items()
                    if not field.load_only and not field.metadata.get(SOMETIMES)
                    and (field.data_key or name) in properties]
        return {"required": required} if required else None
