"""Validation errors in plain words, in the reader's language.

Pydantic's messages are written for programmers ("String should have at least 1 character"); a patrol
commander at a form needs "Fill this in." next to the field. Each kind of error pydantic reports
(its ``type``) gets one plain sentence, with the limits from its context; a rule of our own
(a ``value_error``) already speaks plainly and keeps its words. The field is named by the problem's
``errors[].field``, so the sentence does not repeat it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from peacewatch.core.i18n import N_

Translate = Callable[[str], str]

# pydantic error type -> plain sentence; %(name)s takes the error's context (limits, allowed values)
SENTENCES: dict[str, str] = {
    "missing": N_("Fill this in."),
    "string_too_short": N_("Fill this in."),
    "string_too_long": N_("At most %(max_length)s characters."),
    "string_type": N_("Write this as text."),
    "string_pattern_mismatch": N_("This is not in the expected form."),
    "too_short": N_("Give at least %(min_length)s."),
    "too_long": N_("Give at most %(max_length)s."),
    "greater_than": N_("Must be more than %(gt)s."),
    "greater_than_equal": N_("Must be %(ge)s or more."),
    "less_than": N_("Must be less than %(lt)s."),
    "less_than_equal": N_("Must be %(le)s or less."),
    "int_parsing": N_("Write a whole number."),
    "int_type": N_("Write a whole number."),
    "int_from_float": N_("Write a whole number."),
    "float_parsing": N_("Write a number."),
    "float_type": N_("Write a number."),
    "finite_number": N_("Write a number."),
    "decimal_parsing": N_("Write a number."),
    "bool_parsing": N_("Answer yes or no."),
    "bool_type": N_("Answer yes or no."),
    "datetime_parsing": N_("Give a date and time, such as 2020-11-14 09:30."),
    "datetime_from_date_parsing": N_("Give a date and time, such as 2020-11-14 09:30."),
    "datetime_type": N_("Give a date and time, such as 2020-11-14 09:30."),
    "timezone_aware": N_("Give a date and time with its time zone."),
    "date_parsing": N_("Give a date, such as 2020-11-14."),
    "date_from_datetime_parsing": N_("Give a date, such as 2020-11-14."),
    "date_from_datetime_inexact": N_("Give a date, such as 2020-11-14."),
    "date_type": N_("Give a date, such as 2020-11-14."),
    "time_parsing": N_("Give a time, such as 09:30."),
    "enum": N_("Choose one of: %(expected)s."),
    "literal_error": N_("Choose one of: %(expected)s."),
    "list_type": N_("Give a list."),
    "dict_type": N_("Give the parts of this item."),
    "model_type": N_("Give the parts of this item."),
    "model_attributes_type": N_("Give the parts of this item."),
    "extra_forbidden": N_("This field is not known here."),
    "json_invalid": N_("This is not valid JSON."),
    "json_type": N_("This is not valid JSON."),
    "uuid_parsing": N_("This is not a valid identifier."),
    "url_parsing": N_("This is not a valid address."),
    "multiple_of": N_("Must be a multiple of %(multiple_of)s."),
}

VALUE_ERROR_PREFIXES = ("Value error, ", "Assertion failed, ")


def plain_message(error: Mapping[str, Any], gettext: Translate) -> str:
    """One pydantic error (an item of ``ValidationError.errors()``) as a plain sentence in the reader's language."""
    kind = str(error.get("type", ""))
    message = str(error.get("msg", "")) or gettext("This value is not accepted.")
    if kind in ("value_error", "assertion_error"):
        for prefix in VALUE_ERROR_PREFIXES:
            message = message.removeprefix(prefix)
        return gettext(message)
    sentence = SENTENCES.get(kind)
    if sentence is None:
        return message
    context = {key: _shown(value) for key, value in (error.get("ctx") or {}).items()}
    try:
        return gettext(sentence) % context if "%(" in sentence else gettext(sentence)
    except (KeyError, ValueError, TypeError):  # a context pydantic did not give: the programmer's words beat none
        return message


def _shown(value: Any) -> str:
    """A limit as a person writes it: 1 rather than 1.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
