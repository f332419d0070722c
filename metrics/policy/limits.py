"""The limits of a grade policy, defined once: the models, the validation the API and admin
share (``metrics.policy.services``) and the API's schema all read them from here."""

MAX_NAME = 100  # GradePolicy.name
MAX_LEVEL_NAME = 50  # GradeLevel.name, and every stored level name of an evaluation
MAX_ANY_OF = 50  # Criterion.any_of
SMALLINT_MAX = 32767  # PositiveSmallIntegerField
MAX_WINDOW_MONTHS = 1200  # 100 years: any longer is "all time" (0)
# Stored in a PositiveSmallIntegerField: 36,500 (100 years) was accepted and failed the write
# (a 500 schemathesis found); 32,767 days is still 89 years.
MAX_WINDOW_DAYS = SMALLINT_MAX
# Sizes: a seller program has a handful of levels and criteria; the caps keep one policy (and
# every stored result that lists its criteria per seller) small. 2,000 levels × 25 criteria
# (3.7 MB) was accepted before, and a preview of it answered 5.3 MB.
MAX_LEVELS = 20
MAX_CRITERIA_PER_LEVEL = 25
MAX_CRITERIA = 100
# A criterion's own window (SPEC §5): 1–3650 days (ten years).
MAX_CRITERION_WINDOW_DAYS = 3650
# A policy's score: a handful of weighted parts.
MAX_SCORE_PARTS = 20
