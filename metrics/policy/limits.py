"""The limits of a grade policy, defined once: the models, the validation the API and admin
share (``metrics.policy.services``) and the API's schema all read them from here."""

MAX_NAME = 100  # GradePolicy.name
MAX_LEVEL_NAME = 50  # GradeLevel.name, and every stored level name of an evaluation
MAX_ANY_OF = 50  # Criterion.any_of
SMALLINT_MAX = 32767  # PositiveSmallIntegerField
MAX_WINDOW_MONTHS = 1200  # 100 years: any longer is "all time" (0)
MAX_WINDOW_DAYS = 36500
