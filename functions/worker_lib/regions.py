"""The regions our risk feeds report on: ISO 3166 country or subdivision codes and their names."""

from __future__ import annotations

REGION_NAMES: dict[str, str] = {
    "AT": "Austria",
    "BE": "Belgium",
    "CH": "Switzerland",
    "DE": "Germany",
    "DE-BY": "Bavaria",
    "DE-NW": "North Rhine-Westphalia",
    "ES": "Spain",
    "FR": "France",
    "GB": "United Kingdom",
    "IT": "Italy",
    "JP": "Japan",
    "NL": "Netherlands",
    "PL": "Poland",
    "US": "United States",
    "US-CA": "California",
    "US-TX": "Texas",
}


def normalise(code: object) -> str:
    """Upper-case and strip a region code; ``""`` for anything that is not a string."""
    return code.strip().upper() if isinstance(code, str) else ""


def name_of(code: str) -> str:
    """The region's display name, or ``"Unknown"`` for a code we have no name for."""
    return REGION_NAMES.get(normalise(code), "Unknown")
