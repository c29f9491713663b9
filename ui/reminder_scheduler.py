"""Importing this module starts the app's reminder scheduler, once per server process
(feedback.collection.reminder_schedule.start_scheduler): app.py imports it, and Python
imports a module once however many sessions and reruns run app.py. It has its own engine,
so it never touches a session's. TANDEM_REMINDER_CHECK_SECONDS=off leaves it to cron."""

from __future__ import annotations

from core.db import make_engine
from feedback.collection.reminder_schedule import start_scheduler

thread = start_scheduler(make_engine)
