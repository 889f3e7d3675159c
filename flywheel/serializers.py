"""Serializer bases shared by the apps' APIs."""

from rest_framework import serializers


class ModelOutput(serializers.ModelSerializer):
    """An output serializer over a model: ``Meta.fields`` names its fields in order. The model's
    own fields take their types, nullability, choices and help texts from the model, so the API
    schema says what the database holds; fields that are not the model's (annotations, related
    values) are declared as usual, and a subclass's declared fields follow ``Meta.fields``.
    The model's fields are read-only."""

    def get_field_names(self, declared_fields, info):
        names = list(self.Meta.fields)
        return names + [name for name in declared_fields if name not in names]

    def get_fields(self):
        fields = super().get_fields()
        for name, field in fields.items():
            if name not in self._declared_fields:
                field.read_only = True
        return fields
