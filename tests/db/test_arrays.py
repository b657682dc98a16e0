"""notifications/db/arrays.py: values as one PostgreSQL array literal."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection

from notifications.db import array_literal, text_array_literal
from tests.db.strings import HOSTILE


def test_array_literal_writes_ids_as_one_text_and_leaves_anything_else_to_psycopg():
    first, second = uuid.uuid4(), uuid.uuid4()
    assert array_literal([3, 1, 2]) == "{3,1,2}"
    assert array_literal(iter([first, second])) == f"{{{first},{second}}}"
    assert array_literal([]) == "{}"
    # Text could hold a comma, a brace or a quote: never spliced into a literal.
    assert array_literal(["a,b", "c"]) == ["a,b", "c"]
    assert array_literal([True, 2]) == [True, 2]


def test_text_array_literal_quotes_every_element():
    assert text_array_literal(["a", "b"]) == '{"a","b"}'
    assert text_array_literal([]) == "{}"
    assert text_array_literal(['x"y', "z\\"]) == '{"x\\"y","z\\\\"}'


@pytest.mark.django_db
def test_text_array_literal_reads_back_as_the_same_strings_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL array literal")
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[]", [text_array_literal(HOSTILE)])
        assert cursor.fetchone()[0] == HOSTILE
