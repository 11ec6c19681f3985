"""The native bank format: YAML with categories, questions and options (see README)."""

from quizapp.banks.formats.base import (
    ParsedBank,
    ParsedOption,
    ParsedQuestion,
    Problem,
    decode_text,
)
from quizapp.yamlfile import YAMLFileError, load_lined_yaml

QUESTION_KEYS = {"id", "kind", "difficulty", "text", "options", "shuffle", "explanation", "source"}


class YAMLReader:
    extensions = (".yaml", ".yml")
    label = "YAML"

    def read(self, data: bytes, *, skip_unsupported: bool = False) -> ParsedBank:
        bank = ParsedBank()
        text = decode_text(data, bank.problems)
        if text is None:
            return bank
        if not text.strip():
            bank.problems.append(Problem(None, "the file is empty"))
            return bank
        try:
            lined = load_lined_yaml(text)
        except YAMLFileError as error:
            bank.problems.append(Problem(error.line, error.message))
            return bank
        root = lined.data
        if not isinstance(root, dict) or not isinstance(root.get("categories"), list):
            bank.problems.append(Problem(1, "expected 'bank:' and a list under 'categories:'"))
            return bank
        bank.name = str(root["bank"]).strip() if root.get("bank") else None
        for c_index, category in enumerate(root["categories"]):
            path = ("categories", c_index)
            if not isinstance(category, dict) or not str(category.get("name") or "").strip():
                bank.problems.append(Problem(lined.line_of(path), "each category needs a 'name'"))
                continue
            name = str(category["name"]).strip()
            bank.category_order.append(name)
            questions = category.get("questions") or []
            if not isinstance(questions, list):
                bank.problems.append(
                    Problem(lined.line_of(path + ("questions",)), "'questions' must be a list")
                )
                continue
            for q_index, item in enumerate(questions):
                q_path = path + ("questions", q_index)
                parsed = self._question(item, name, q_path, lined, bank.problems)
                if parsed is not None:
                    bank.questions.append(parsed)
        return bank

    def _question(self, item, category, path, lined, problems) -> ParsedQuestion | None:
        line = lined.line_of(path)
        if not isinstance(item, dict):
            problems.append(Problem(line, "a question must be a mapping with text and options"))
            return None
        unknown = sorted(set(map(str, item)) - QUESTION_KEYS)
        if unknown:
            problems.append(
                Problem(
                    line,
                    f"unknown key(s) {', '.join(unknown)}; "
                    f"allowed: {', '.join(sorted(QUESTION_KEYS))}",
                )
            )
        options = []
        for o_index, option in enumerate(item.get("options") or []):
            if isinstance(option, dict) and "text" in option:
                options.append(ParsedOption(str(option["text"]), bool(option.get("correct"))))
            elif isinstance(option, str):
                options.append(ParsedOption(option))
            else:
                problems.append(
                    Problem(
                        lined.line_of(path + ("options", o_index)),
                        "an option needs 'text' (and 'correct: true' if right)",
                    )
                )
        difficulty = item.get("difficulty", 1)
        if difficulty not in (1, 2, 3):
            problems.append(
                Problem(
                    lined.line_of(path + ("difficulty",)),
                    f"difficulty must be 1, 2 or 3, not {difficulty!r}",
                )
            )
            difficulty = 1
        shuffle = item.get("shuffle")
        return ParsedQuestion(
            category=category,
            text=str(item.get("text") or ""),
            options=options,
            kind=str(item["kind"]) if item.get("kind") else None,
            explanation=_optional(item.get("explanation")),
            difficulty=difficulty,
            source=_optional(item.get("source")),
            shuffle=bool(shuffle) if shuffle is not None else None,
            external_id=_optional(item.get("id")),
            line=line,
        )


def _optional(value) -> str | None:
    return str(value).strip() or None if value is not None else None
