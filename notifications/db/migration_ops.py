"""Index operations for migrations on tables that grow with traffic: on PostgreSQL they are built and dropped
CONCURRENTLY (the table keeps taking intake's COPY and the workers' updates while an index builds; a plain
CREATE INDEX blocks writes for a whole scan, a plain DROP INDEX takes the table's ACCESS EXCLUSIVE lock until
commit). Elsewhere (SQLite) they are the plain operations. A migration using them sets `atomic = False`:
CONCURRENTLY cannot run inside a transaction."""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

from notifications.db import partitioning


class AddIndexConcurrentlyOnPostgres(migrations.AddIndex):
    """CREATE INDEX CONCURRENTLY on PostgreSQL (on a partitioned table: partition by partition,
    `partitioning.create_index`); elsewhere a plain AddIndex."""

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            _add_concurrently(schema_editor, model, self.index)
        return None

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, concurrently=_concurrent_drop(schema_editor, model))
        return None


def _add_concurrently(schema_editor: Any, model: Any, index: models.Index) -> None:
    """CREATE INDEX CONCURRENTLY; on a partitioned table partition by partition (`partitioning.create_index`)."""
    with schema_editor.connection.cursor() as cursor:
        if partitioning.is_partitioned(cursor, model._meta.db_table):
            partitioning.create_index(cursor, str(index.create_sql(model, schema_editor)))
            return
    schema_editor.add_index(model, index, concurrently=True)


def _concurrent_drop(schema_editor: Any, model: Any) -> bool:
    """DROP INDEX CONCURRENTLY, but on a partitioned table (PostgreSQL drops a partitioned index and its
    partitions' in one plain DROP only)."""
    with schema_editor.connection.cursor() as cursor:
        return not partitioning.is_partitioned(cursor, model._meta.db_table)


class RemoveIndexConcurrentlyOnPostgres(migrations.RemoveIndex):
    """DROP INDEX CONCURRENTLY on PostgreSQL; elsewhere a plain RemoveIndex."""

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            index = from_state.models[app_label, self.model_name_lower].get_index_by_name(self.name)
            schema_editor.remove_index(model, index, concurrently=_concurrent_drop(schema_editor, model))
        return None

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            index = to_state.models[app_label, self.model_name_lower].get_index_by_name(self.name)
            _add_concurrently(schema_editor, model, index)
        return None


class _Replace(migrations.operations.base.Operation):
    """What the replacing operations share: one model's index or constraint, redefined under its name; going
    forwards and backwards are the same swap, from one state to the other."""

    reversible = True
    kind = ""  # the keyword argument naming the index or constraint

    def __init__(self, model_name: str, **definition: Any) -> None:
        self.model_name, self.definition = model_name, definition[self.kind]

    @property
    def model_name_lower(self) -> str:
        return self.model_name.lower()

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return self.__class__.__qualname__, [], {"model_name": self.model_name, self.kind: self.definition}

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        self._swap(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        self._swap(app_label, schema_editor, from_state, to_state)

    def _swap(self, app_label: str, schema_editor: Any, old_state: Any, new_state: Any) -> None:
        raise NotImplementedError


class ReplaceIndexConcurrentlyOnPostgres(_Replace):
    """An index redefined under the same name (e.g. a partial index's condition). On PostgreSQL the new one is
    built CONCURRENTLY under a temporary name, the old one dropped CONCURRENTLY, the new one renamed: the table
    always has one of the two and never stops taking writes. Elsewhere the old index is dropped and the new one
    made."""

    kind = "index"

    def __init__(self, model_name: str, index: models.Index) -> None:
        super().__init__(model_name, index=index)
        self.index = index

    def state_forwards(self, app_label: str, state: Any) -> None:
        state.remove_index(app_label, self.model_name_lower, self.index.name)
        state.add_index(app_label, self.model_name_lower, self.index)

    def _swap(self, app_label: str, schema_editor: Any, old_state: Any, new_state: Any) -> None:
        model = new_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        old = old_state.models[app_label, self.model_name_lower].get_index_by_name(self.index.name)
        new = new_state.models[app_label, self.model_name_lower].get_index_by_name(self.index.name)
        if schema_editor.connection.vendor != "postgresql":
            schema_editor.remove_index(model, old)
            schema_editor.add_index(model, new)
            return
        building = new.clone()
        building.name = f"{new.name[:20]}_swap"
        quote = schema_editor.quote_name
        schema_editor.add_index(model, building, concurrently=True)
        schema_editor.remove_index(model, old, concurrently=True)
        schema_editor.execute(f"ALTER INDEX {quote(building.name)} RENAME TO {quote(new.name)}")

    def describe(self) -> str:
        return f"Replace index {self.index.name} on {self.model_name} (concurrently on PostgreSQL)"


class ReplaceUniqueConstraintConcurrentlyOnPostgres(_Replace):
    """A unique constraint redefined under the same name (e.g. one more column). On PostgreSQL the new unique
    index is built CONCURRENTLY, then in one short transaction the old constraint is dropped and the new one
    added USING that index (no scan under a lock). Elsewhere the old constraint is removed and the new one
    added."""

    kind = "constraint"

    def __init__(self, model_name: str, constraint: models.UniqueConstraint) -> None:
        super().__init__(model_name, constraint=constraint)
        self.constraint = constraint

    def state_forwards(self, app_label: str, state: Any) -> None:
        state.remove_constraint(app_label, self.model_name_lower, self.constraint.name)
        state.add_constraint(app_label, self.model_name_lower, self.constraint)

    def _swap(self, app_label: str, schema_editor: Any, old_state: Any, new_state: Any) -> None:
        model = new_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        name = self.constraint.name
        old = old_state.models[app_label, self.model_name_lower].get_constraint_by_name(name)
        new = new_state.models[app_label, self.model_name_lower].get_constraint_by_name(name)
        if schema_editor.connection.vendor != "postgresql":
            schema_editor.remove_constraint(model, old)
            schema_editor.add_constraint(model, new)
            return
        quote = schema_editor.quote_name
        table = quote(model._meta.db_table)
        building = quote(f"{name[:20]}_swap")
        columns = ", ".join(quote(model._meta.get_field(field).column) for field in new.fields)
        schema_editor.execute(f"CREATE UNIQUE INDEX CONCURRENTLY {building} ON {table} ({columns})")
        schema_editor.execute(f"BEGIN; ALTER TABLE {table} DROP CONSTRAINT {quote(name)}; "
                              f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} UNIQUE USING INDEX {building}; "
                              "COMMIT")

    def describe(self) -> str:
        return f"Replace unique constraint {self.constraint.name} on {self.model_name} (concurrently on PostgreSQL)"
