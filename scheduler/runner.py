"""The scheduler process: the clock that fires each planned send on time.

The sends table is the plan. APScheduler 3 neither keeps jobs added before it starts
nor sees jobs another process adds to a shared job store, so the active scheduler
derives its jobs from the table at start and on every tick (every few seconds): a job
per scheduled send, at its due time. A fired job only calls ``fire``, which makes the
send due through the idempotent ``sends.make_due`` under a row lock, so a job that runs
twice, or two schedulers that both think they lead for a moment, send nothing twice.

Only one scheduler is active (scheduler/locks.py); the others wait and take over
within a tick of its death. The active one also reads the bounce mailbox every
``[bounces] poll`` when ``[bounces] imap_host`` is set (mailer/bounces/mailbox.py), so
two processes never read it at once; a mailbox that cannot be read is logged and tried
again at the next poll. A send missed by less than ``[scheduler] misfire_grace``
runs late; one missed by more is marked missed, for a person to send now or cancel.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.bounces import mailbox
from mailer.bulletins import messages
from mailer.config import Config, format_duration
from mailer.database import Database, utcnow
from mailer.delivery import sends, switch
from mailer.delivery.models import SEND_SCHEDULED, SEND_SENDING, Send
from mailer.delivery.worker import secret_keys_for
from mailer.tracking import links
from scheduler import late_joiners, status
from scheduler.consultations import lifecycle, phase_events, planning
from scheduler.locks import LeaderLock, lock_for
from scheduler.models import Consultation
from scheduler.timeline import REMINDER

log = logging.getLogger(__name__)

SYNC_SECONDS = 5.0
LATE_JOINERS_SECONDS = 30.0
JOB_PREFIX = "send-"
BOUNCES_JOB = "bounce-mailbox"


class Scheduler:
    def __init__(
        self,
        db: Database,
        config: Config,
        *,
        name: str | None = None,
        sync_seconds: float = SYNC_SECONDS,
        late_joiners_seconds: float = LATE_JOINERS_SECONDS,
        clock: Callable[[], datetime] = utcnow,
        lock: LeaderLock | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.sync_seconds = sync_seconds
        self.late_joiners_seconds = late_joiners_seconds
        self.clock = clock
        self.lock = lock or lock_for(db, config)
        self.grace = config.scheduler.misfire_grace
        self.domain = messages.settings_from(config).message_id_domain
        self._aps: BackgroundScheduler | None = None
        self._late_joiners_at: datetime | None = None
        self.fired = 0  # how many sends this scheduler made due (for tests and logs)

    @property
    def leading(self) -> bool:
        return self._aps is not None

    # --- the loop ---------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        log.info("scheduler %s started; waiting for the scheduler lock", self.name)
        try:
            while not stop.is_set():
                try:
                    self.step()
                except Exception:
                    log.exception("scheduler %s: unexpected error; carrying on", self.name)
                stop.wait(self.sync_seconds)
        finally:
            self.step_down()
            log.info("scheduler %s stopped", self.name)

    def step(self) -> None:
        """One tick: take the lock if free, check it is still ours, sync the jobs."""
        if not self.leading:
            if not self.lock.acquire():
                return
            self._lead()
        elif not self.lock.held():
            log.error("scheduler %s lost its lock; stepping down", self.name)
            self.step_down()
            return
        self.tick()

    def _lead(self) -> None:
        self._aps = BackgroundScheduler(
            timezone="UTC",
            executors={"default": ThreadPoolExecutor(4)},
            job_defaults={
                "misfire_grace_time": int(self.grace.total_seconds()),
                "coalesce": True,
                "max_instances": 1,
            },
        )
        self._aps.add_listener(self._on_missed, EVENT_JOB_MISSED)
        self._aps.start()
        if self.config.bounces.imap_enabled:
            # A job of its own, so a slow mailbox never holds up a tick; read at once,
            # then every poll.
            self._aps.add_job(
                self.poll_bounces,
                IntervalTrigger(seconds=self.config.bounces.poll.total_seconds()),
                id=BOUNCES_JOB,
                next_run_time=datetime.now(UTC),
            )
        with self.db.writing() as session:
            status.started(session, owner=self.name, now=self.clock())
        log.info("scheduler %s is now the active scheduler", self.name)

    def step_down(self) -> None:
        if self._aps is not None:
            self._aps.shutdown(wait=True)
            self._aps = None
            try:
                with self.db.writing() as session:
                    status.stopped(session, owner=self.name)
            except Exception:  # the database may be why we stop
                log.exception("scheduler %s: could not record that it stopped", self.name)
        self.lock.release()

    # --- syncing the jobs with the sends table -----------------------------------------

    def tick(self) -> None:
        now = self.clock()
        wanted: dict[str, tuple[int, datetime]] = {}
        with self.db.writing() as session:
            stopped = switch.is_stopped(session)
            scheduled = session.execute(
                select(Send.id, Send.due_at).where(
                    Send.state == SEND_SCHEDULED, Send.due_at.is_not(None)
                )
            ).all()
            for send_id, due_at in scheduled:
                if due_at is None:  # not by the query; said for the type checker
                    continue
                if now - due_at > self.grace:
                    send = session.get(Send, send_id)
                    if send is not None:
                        lifecycle.mark_missed(session, send, now=now)
                elif not stopped:
                    wanted[f"{JOB_PREFIX}{send_id}"] = (send_id, due_at)
            # A send whose last rows a worker recorded without finishing it (the worker
            # stopped, or its last write failed) is finished here.
            for sending in session.scalars(select(Send).where(Send.state == SEND_SENDING)):
                sends.finish_if_done(session, sending, now=now)
            phase_events.tell(session, now=now)
            if not stopped and self._late_joiners_due(now):
                self._add_late_joiners(session, now)
            upcoming = min(wanted.values(), key=lambda item: item[1], default=None)
            status.heartbeat(
                session,
                owner=self.name,
                now=now,
                next_run_at=upcoming[1] if upcoming else None,
                next_send_id=upcoming[0] if upcoming else None,
            )
        self._sync_jobs(wanted)

    def _sync_jobs(self, wanted: dict[str, tuple[int, datetime]]) -> None:
        aps = self._aps
        if aps is None:
            return
        current = {job.id: job for job in aps.get_jobs()}
        for job_id, job in current.items():
            if job_id.startswith(JOB_PREFIX) and job_id not in wanted:
                # It may have just run (and gone) since get_jobs: nothing to remove then.
                with contextlib.suppress(JobLookupError):
                    job.remove()
        for job_id, (send_id, due_at) in wanted.items():
            job = current.get(job_id)
            if job is None:
                aps.add_job(
                    self.fire,
                    DateTrigger(run_date=due_at),
                    args=[send_id],
                    id=job_id,
                    replace_existing=True,
                )
                log.info("send %s: timer set for %s", send_id, due_at.isoformat())
            elif job.trigger.run_date != due_at:
                try:
                    job.reschedule(DateTrigger(run_date=due_at))
                except JobLookupError:
                    # It ran meanwhile; fire() saw the new time and left it for this.
                    aps.add_job(self.fire, DateTrigger(run_date=due_at), args=[send_id], id=job_id)
                log.info("send %s: timer moved to %s", send_id, due_at.isoformat())

    # --- what a fired job does ---------------------------------------------------------

    def fire(self, send_id: int) -> bool:
        """Make the send due, if it is still scheduled and its time has come. True when
        this call made it due."""
        if not self.lock.held():
            log.warning("send %s: not fired, this scheduler no longer holds the lock", send_id)
            return False
        now = self.clock()
        with self.db.writing() as session:
            query = select(Send).where(Send.id == send_id)
            if not self.db.is_sqlite:
                query = query.with_for_update()
            send = session.scalar(query)
            if send is None or send.state != SEND_SCHEDULED or send.due_at is None:
                return False
            if send.due_at - now > timedelta(seconds=1):
                return False  # moved later since the timer was set; the next tick re-sets it
            if switch.is_stopped(session):
                log.warning("send %s: not fired, sending is stopped", send_id)
                return False
            made = sends.make_due(session, send, now=now, domain=self.domain)
            self._prepare(session, send)
            late = now - send.due_at
        self.fired += 1
        log.info(
            "send %s fired%s: %d delivery rows",
            send_id,
            f" {late.total_seconds():.0f}s late" if late > timedelta(seconds=5) else "",
            made,
        )
        return True

    def _prepare(self, session: Session, send: Send) -> None:
        """Share codes and tracked links for the send's recipients, and (per-person
        tracking, when the consultation asks) reminders left out for those who have
        already followed the survey link."""
        tracking = self.config.tracking
        links.prepare_send(session, send, base_url=self.config.app.base_url, links=tracking.links)
        if tracking.per_person and send.kind == REMINDER and send.consultation_id:
            consultation = session.get(Consultation, send.consultation_id)
            if consultation is not None and consultation.skip_responders:
                skipped = links.skip_responders(session, send)
                log.info("send %s: %d who already responded left out", send.id, skipped)

    def _on_missed(self, event: JobExecutionEvent) -> None:
        # APScheduler found the job more than the grace time late (the process was
        # asleep, say): the next tick marks the send missed; nothing is dropped.
        log.warning("job %s missed its time (%s)", event.job_id, event.scheduled_run_time)

    # --- the bounce mailbox ------------------------------------------------------------

    def poll_bounces(self) -> mailbox.Summary | None:
        """Read the bounce mailbox once; a failure is logged, never raised (the next
        poll tries again). None when it could not be read."""
        if not self.lock.held():
            return None
        settings = self.config.bounces
        again = format_duration(settings.poll)
        try:
            return mailbox.fetch(
                self.db, self.config, keys=secret_keys_for(self.config), clock=self.clock
            )
        except mailbox.MailboxError as exc:
            log.error(
                "bounce mailbox %s/%s not read (trying again in %s): %s: %s",
                settings.imap_host,
                settings.imap_folder,
                again,
                exc.key,
                exc.reason,
            )
        except Exception:
            log.exception(
                "bounce mailbox %s/%s: unexpected error; trying again in %s",
                settings.imap_host,
                settings.imap_folder,
                again,
            )
        return None

    # --- late joiners ------------------------------------------------------------------

    def _late_joiners_due(self, now: datetime) -> bool:
        last = self._late_joiners_at
        if last is not None and (now - last).total_seconds() < self.late_joiners_seconds:
            return False
        self._late_joiners_at = now
        return True

    def _add_late_joiners(self, session: Session, now: datetime) -> None:
        """Send the launch to contacts who joined an audience list while the
        consultation is open (when it asks for that), at an allowed sending time."""
        rules = planning.rules_for(session, self.config)
        if rules.why_not(now):
            return
        launches = session.scalars(late_joiners.open_launches(now)).all()
        for send in launches:
            made = sends.make_due(session, send, now=now, domain=self.domain, late_joiners=True)
            if made:
                self._prepare(session, send)
                log.info("send %s: launch made due for %d late joiner(s)", send.id, made)
