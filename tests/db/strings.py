"""Strings that a hand-made SQL literal could get wrong."""

HOSTILE = ["plain", "a,b", "{brace}", 'say "hi"', "back\\slash", "", " padded ", "NULL", "null", "tab\there",
           "line\nbreak", "ünïcödé", "\\\"", "quote'single"]
