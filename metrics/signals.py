"""What metrics tells the apps above it, without importing them (docs/architecture.md).

Both signals are sent after the writing transaction has committed, so a receiver reads what
was written and may hand work to Celery at once. A receiver must not raise: with eager tasks its
work runs inside the sender's call.
"""

from django.dispatch import Signal

# A run published its period (metrics.runs.lifecycle.finalize_run): kwargs run_id, period.
run_published = Signal()

# The beat refreshed every seller's month-to-date figures (metrics.tasks.refresh_month_to_date):
# kwargs as_of (the aware instant the figures are computed to), period ("YYYY-MM").
month_to_date_refreshed = Signal()

# Staff decided an appeal (metrics.appeals.services.decide_appeal), after the commit:
# kwargs appeal_id.
appeal_decided = Signal()

# An accepted appeal corrected a published grade (metrics.appeals.corrections), after the
# commit: kwargs correction_id (an EvaluationCorrection whose level changed or not).
grade_corrected = Signal()
