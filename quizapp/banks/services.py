"""The bank package's services, one import away: each lives in the module of its seam.

- `importer`: reading a bank file, checking it, writing it all or nothing;
- `uploads`: uploaded files kept between their preview and their confirmation;
- `queries`: the bank list, one bank's questions, exports;
- `editing`: changing, deactivating and deleting one question;
- `rules`: what every question follows, from a file or the edit page.
"""

from quizapp.banks.editing import (
    EditResult,
    OptionEdit,
    QuestionEdit,
    QuestionInvalid,
    check_question_edit,
    delete_question,
    question_summary,
    set_question_active,
    update_question,
)
from quizapp.banks.importer import (
    ImportReport,
    check_questions,
    default_category_name,
    import_bank,
    read_bank,
    supported_extensions,
)
from quizapp.banks.queries import (
    BankOverview,
    BankSummary,
    QuestionFilter,
    bank_named,
    bank_overviews,
    case_blind_pattern,
    export_bank,
    get_bank,
    get_question,
    list_banks,
    question_query,
    search_questions,
    times_used,
)
from quizapp.banks.rules import MAX_OPTIONS, MAX_TEXT, normalise_text, text_key
from quizapp.banks.uploads import (
    UPLOAD_TOKEN,
    PendingUpload,
    claim_upload,
    discard_expired_uploads,
    discard_upload,
    import_pending,
    load_upload,
    release_upload,
    store_upload,
)

__all__ = [
    "MAX_OPTIONS",
    "MAX_TEXT",
    "UPLOAD_TOKEN",
    "BankOverview",
    "BankSummary",
    "EditResult",
    "ImportReport",
    "OptionEdit",
    "PendingUpload",
    "QuestionEdit",
    "QuestionFilter",
    "QuestionInvalid",
    "bank_named",
    "bank_overviews",
    "case_blind_pattern",
    "check_question_edit",
    "check_questions",
    "claim_upload",
    "default_category_name",
    "delete_question",
    "discard_expired_uploads",
    "discard_upload",
    "export_bank",
    "get_bank",
    "get_question",
    "import_bank",
    "import_pending",
    "list_banks",
    "load_upload",
    "normalise_text",
    "question_query",
    "question_summary",
    "read_bank",
    "release_upload",
    "search_questions",
    "set_question_active",
    "store_upload",
    "supported_extensions",
    "text_key",
    "times_used",
    "update_question",
]
