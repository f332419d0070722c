"""The limits of a grade policy, defined once: the models, the validation the API and admin
share (``metrics.policy.services``) and the API's schema all read them from here."""

MAX_NAME = 100  # GradePolicy.name
MAX_LEVEL_NAME = 50  # GradeLevel.name, and every stored level name of an evaluation
MAX_ANY_OF = 50  # Criterion.any_of
SMALLINT_MAX = 32767  # PositiveSmallIntegerField
MAX_WINDOW_MONTHS = 1200  # 100 years: any longer is "all time" (0)
# A policy's window in days, as a criterion's own window (SPEC §5: 1-3650): ten years. A longer
# window is "all time" (window_months 0) in all but cost: 32,767 days with 20 levels made a
# preview job cost 7 times a real run (issue 20). Validated by the API (PUT and preview) and by
# admin alike (``metrics.policy.services``); the column (a PositiveSmallIntegerField) holds it.
MAX_WINDOW_DAYS = 3650
# Sizes: a seller program has a handful of levels and criteria; the caps keep one policy (and
# every stored result that lists its criteria per seller) small. 2,000 levels × 25 criteria
# (3.7 MB) was accepted before, and a preview of it answered 5.3 MB.
MAX_LEVELS = 20
MAX_CRITERIA_PER_LEVEL = 25
MAX_CRITERIA = 100
# A criterion's own window (SPEC §5): 1–3650 days, the bound of a policy's window.
MAX_CRITERION_WINDOW_DAYS = MAX_WINDOW_DAYS
# A policy's score: a handful of weighted parts.
MAX_SCORE_PARTS = 20
