"""`field__any=values`: one array parameter instead of an IN list (registered on import of notifications.db)."""

from __future__ import annotations

from django.db import models

from notifications.db.arrays import text_array_literal


@models.Field.register_lookup
class AnyOf(models.Lookup):
    """`field__any=values`: `field = ANY(%s)` with one array parameter on PostgreSQL, `IN (...)` elsewhere.
    An IN list of thousands of values (a batch's users) is quoted value by value on the client; the array is
    one parameter."""

    lookup_name = "any"

    def get_prep_lookup(self) -> list[object]:
        values = list(self.rhs)
        field = self.lhs.output_field
        base = field.target_field if field.is_relation else field
        # Strings for a text column are already what the column takes: nothing to prepare one by one (a batch's
        # user ids went through two field methods each, a few microseconds per event). Decided once, here.
        self._text_values = isinstance(base, (models.CharField, models.TextField)) and all(
            type(value) is str for value in values)
        if self._text_values:
            return values
        prep = field.get_prep_value
        return [prep(value) for value in values]

    def as_sql(self, compiler, connection):
        if connection.vendor != "postgresql":
            return compiler.compile(models.lookups.In(self.lhs, self.rhs))
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if self._text_values:
            # One text parameter: a list is quoted element by element on the client (a batch's thousands of
            # user ids were a tenth of intake's time).
            return f"{lhs} = ANY(%s::text[])", [*lhs_params, text_array_literal(self.rhs)]
        values = [self.lhs.output_field.get_db_prep_value(value, connection, prepared=True) for value in self.rhs]
        return f"{lhs} = ANY(%s)", [*lhs_params, values]


models.ForeignObject.register_lookup(AnyOf)  # relations keep their own lookup table (`tenant_id__any`)


@models.UUIDField.register_lookup
class UuidVersion(models.Transform):
    """`key__version="7"`: the UUID's version digit, as text (PostgreSQL's uuid type, or Django's 32 hex digits
    on SQLite). Time-ordered keys (7) and random ones (4, of databases from before ef08eef) are told apart."""

    lookup_name = "version"
    output_field = models.CharField()

    def as_sql(self, compiler, connection):
        lhs, params = compiler.compile(self.lhs)
        if connection.vendor == "postgresql":
            return f"substr({lhs}::text, 15, 1)", params
        return f"substr({lhs}, 13, 1)", params
