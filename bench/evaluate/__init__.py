"""Evaluation benchmark: the monthly engine against a hand-written SQL floor, checked exactly.

Run from the project root (PostgreSQL at 127.0.0.1:5432, Redis at 127.0.0.1:6379)::

    .venv/bin/python -m bench.evaluate [--scale XS|S|L] [--period 2026-10] [--keep-data]
                                       [--skip-generate] [--no-broker] [--no-reads]

1. a scratch database ``gradecraft_bench_<scale>`` (created, migrated) is filled with a
   generated marketplace (``dataset``): S = 10,000 sellers, 1 M orders, 3 M messages, 400 k
   reviews over the 24 months before the period's cutoff; L = S with 30 M messages; XS = 300
   sellers for quick checks. A database that already holds this scale and period is reused;
2. (c) the SQL floor (``floor``) computes every SPEC §4 metric of every seller, twice; the
   better time counts;
3. (a) ``manage.py evaluate --period P`` (eager, in its process), then (b) the same via Celery
   with 1 and 2 worker processes (``manage.py evaluate --period P --via-broker``) (``engine``);
   the results stored by (a), and again by (b2), must equal the floor's exactly (``compare``);
4. the read paths under gunicorn (``reads``): dashboard, grade preview, grade, evidence, for the
   biggest and the median seller, against ``GET /login/``;
5. a summary: (a)/(c), (b1)/(c), (b2)/(c) against the goals (a) ≤ 1.5 × (c), (b2) ≤ 2 × (c).

The scratch database is dropped at the end if this run created or generated it, unless
``--keep-data``. Exit status 0 when every check passed, 1 otherwise.
"""
