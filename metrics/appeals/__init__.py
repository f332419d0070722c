"""Appeals and corrections (SPEC §2 Appeal, §7 appeals): a seller contests one order, staff
decide, and an accepted appeal corrects every published grade the order touched.

``services`` files and decides appeals (the writes, with their audit entries), ``corrections``
re-evaluates the seller for the affected periods under each period's own policy snapshot and
publishes each correction atomically, ``audit`` records and exports who did what.
"""
