"""Settings of an optimizer's hyperparameters, for lessons that let a visitor choose one.

Such a setting is blank by default, meaning "the chosen optimizer's own default"
(which differs between optimizers); a refused value falls back to blank.
"""

from __future__ import annotations

from components.settings_schema import Schema


class OptimizerSchema(Schema):
    """A schema whose blank-by-default settings are optimizer hyperparameters: the note
    for a refused one says that the optimizer's default is used."""

    def check(self, raw: dict) -> tuple[dict, dict[str, str]]:
        values, notes = super().check(raw)
        return values, {name: note.replace("; using .", "; using the optimizer's default.")
                        for name, note in notes.items()}
