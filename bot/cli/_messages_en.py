"""The command line's lines in English (`--lang en`, TOCNS_LOCALE=en); the same keys as _messages_vi."""

from __future__ import annotations

EN: dict[str, str] = {
    # --- usage mistakes ---------------------------------------------------------------------
    "missing": "missing {what} '{name}' for `tocns {command}` — see `tocns {command} --help`.",
    "missing.argument": "argument",
    "missing.option": "option",
    "no_command": "no such command '{name}' — see `tocns {command}--help`.",
    "no_option": "no such option '{name}' — see `tocns {command} --help`.",
    "bad_value": "invalid value for '{name}': {detail}",
    "bad_value_short": "invalid value for '{name}' — see `tocns {command}--help`.",
    "usage": "wrong usage: {detail} — see `tocns --help`.",
    "unknown_lang": "--lang: unknown language '{name}'; choose vi (Vietnamese) or en (English).",
    "unknown_channel": "--channel: unknown channel '{name}'; choose one of: {choices}.",
    "unknown_role": "--role: unknown role '{name}'; choose one of: {choices}.",
    "unknown_demo_user": "unknown demo user '{name}'; choose one of:\n{choices}",
    "unknown_console_user": (
        "no console account '{name}' in this database; grant it a role first: "
        "`tocns users grant --channel console --user-id {name} --role … --unit …`."
    ),
    "demo_console_real_data": (
        "This database holds real data ({units} units, {people} people): the console is not opened "
        "as the demo user '{name}' (that would create demo people in the real data). To talk to the "
        "bot on this database, grant a role to a console account, e.g. `tocns users grant --channel "
        'console --user-id officer-x --role officer --unit COMMUNE_CODE --name "Full name"`, then '
        "`tocns chat --as officer-x`."
    ),
    "console_roles": "console account: {roles}",
    "no_file": "file not found: '{path}'.",
    "no_unit": "--unit: no unit with code '{code}'.",
    # --- run / db / demo / users / backup ---------------------------------------------------
    "no_channels": "No channel is configured (no token) — opening the console channel.",
    "dashboard": "Web dashboard: {url}",
    "dashboard_link": "Sign-in (demo leader): {link}",
    "db_upgraded": "Database is up to date: {url}",
    "db_current": "current: {current}; latest: {latest}",
    "db_empty": "(empty)",
    "demo_loading": "Loading the demo data…",
    "demo_ready": "Demo data ready (new units: {units}, new people: {people}).",
    "whole_installation": "the whole installation",
    "role_granted": "Granted {role} on {where} to person #{person}.",
    "leader_moved": (
        "Moved the team leader role of {team} ({unit}) from {old} to {new} (person #{person}); "
        "{old} is now a member of the team. Queued {messages} message(s) telling them."
    ),
    "leader_appointed": (
        "Made {new} (person #{person}) the team leader of {team} ({unit}); the team had no leader "
        "before. Queued {messages} message(s) telling them."
    ),
    "leader_already": "{name} (person #{person}) already leads {team} ({unit}); nothing changed.",
    "leader_is_member": (
        "{name} (person #{person}) leads {team} ({unit}) and so already belongs to it; nothing changed."
    ),
    "role_not_grantable": (
        "--role citizen: everyone is a citizen, there is nothing to grant; choose one of: {choices}."
    ),
    "role_wrong_kind": "--unit {code} ({unit}) is {kind}; the role {role} is held only for {kinds}.",
    "role_wrong_kind_none": "the role {role} is held only for {kinds} (--unit CODE).",
    "unit_closed_grant": (
        "--unit {code} ({unit}) is closed and takes nobody new; choose an open unit (see `tocns units list`)."
    ),
    "kind.team": "a team",
    "kind.commune": "a commune",
    "kind.district": "a district",
    "kind.province": "a province",
    "kind.country": "the whole country",
    "kind.or": " or ",
    "kind.or_installation": " (or no --unit: the whole installation)",
    "role_revoked": "Revoked {role} on {where}; {released} claimed ticket(s) handed back.",
    "leader_revoked_leaderless": (
        "{team} ({unit}) has no team leader now: join requests go to the commune officers until a "
        "new one is appointed (tocns users grant --role team_leader)."
    ),
    "leader_revoked_member": "{name} stays a member of the team (logs help sessions with /ghi as before).",
    "leader_revoked_out": "{name} is no longer in the team.",
    "backup_written": "Backup written: {path} ({size:,} bytes).",
    "restore_confirm": "Replace {url} with {file}?",
    "restored": "Restored from {file}.",
    "restore_cancelled": "Cancelled, nothing restored.",
    "cancelled": "Cancelled.",
    "db_unreachable": (
        "database.url: cannot connect to the database {url} ({detail}) — check TOCNS_DATABASE_URL "
        "(or database.url in config.yaml) and the database server."
    ),
    "backup.in_memory": "database.url: an in-memory SQLite database cannot be backed up.",
    "backup.cannot_write": "cannot write {path}: {detail}",
    "backup.cannot_mkdir": "cannot create the folder {path}: {detail}",
    "backup.is_folder": "{path} is a folder: give a file name, or let `tocns backup` name the file.",
    "backup.no_database": "database file not found: {path}",
    "backup.failed": "backup failed: {detail}",
    "backup.integrity": "the backup failed its integrity check: {detail}",
    "backup.no_pg_dump": (
        "pg_dump not found: install the PostgreSQL client tools (package postgresql-client)."
    ),
    "backup.pg_dump_failed": "pg_dump failed: {detail}",
    "backup.restore_pg": "for PostgreSQL use pg_restore --clean --dbname … FILE (see docs/deploy.md).",
    "backup.no_file": "backup file not found: {path}",
    "backup.unusable": "{path} is not a usable SQLite database ({detail})",
    "backup.unhealthy": "{path} is not a healthy SQLite database",
    "backup.not_tocns": "{path} is not a tocns backup ({detail})",
    "backup.revision": (
        "{path} has schema revision {found}; this version needs {expected} (restore it with its own "
        "tocns version, then `tocns db upgrade`)."
    ),
    "backup.bot_running": "a bot (tocns run) is running on this database: stop it first.",
    "backup.lease_held": (
        "a bot ({holder}) holds the database ({lease} lease until {until} UTC): stop it first."
    ),
    # --- outbox status ----------------------------------------------------------------------
    "outbox.kind": "kind",
    "outbox.status": "status",
    "outbox.count": "count",
    "outbox.unreachable": "Unreachable people (blocked the bot?)",
    "outbox.person": "person",
    "outbox.channel": "channel",
    "outbox.since": "unreachable since",
    "outbox.kept": "pushes kept",
    "outbox.resend": (
        "Their pushes are sent again (7 days back) once they write to the bot; `tocns jobs run` and the "
        "running bot check for that."
    ),
    "outbox.window": "Zalo OA window",
    "outbox.pending": "pending",
    "outbox.billable": "48 h-7 days (billable)",
    "outbox.closed": "over 7 days (refused: rerouted)",
    # --- units / invites --------------------------------------------------------------------
    "province_or_all": "give exactly one of --province CODE or --all.",
    "units_loading": "Loading the unit list…",
    "units_imported": "Imported {total} units ({added} new, {updated} renamed).",
    "units_csv_imported": "Imported {total} rows ({added} new, {updated} changed).",
    "csv_row": "  line {row}: {reason}",
    "units.code": "code",
    "units.name": "name",
    "units.kind": "kind",
    "units.active": "active",
    "units.yes": "yes",
    "units.closed": "closed",
    "units_count": "{n} units",
    "role_not_invitable": "--role: an invite code cannot give the role '{name}'; choose one of: {choices}.",
    "invite_created": "Invite code: {code} — role {role} in {where}, {uses} use(s), expires {expires} UTC.",
    "invite_join": "Join by sending the bot: /thamgia {code}",
    "invite_link": "Telegram link: {url}",
    "invite_link_unknown": (
        "Telegram link: https://t.me/<bot username>?start={code} (set {env} to print the full link; "
        "the bot's name is not known offline)"
    ),
    "invite_revoked": "Invite code {code} revoked.",
    "invite_already_revoked": "Invite code {code} was already revoked; nothing changed.",
    "invites.code": "code",
    "invites.role": "role",
    "invites.unit": "unit",
    "invites.uses_left": "uses",
    "invites.expires": "expires (UTC)",
    "invites.created_by": "created by: {name}",
    "invites.state": "state",
    "invites.approval": "needs approval",
    "invites.installation": "— (installation)",
    "invites.operator": "the command line",
    "invites.open": "open",
    "invites.unit_closed": "refused: unit closed",
    "invites.inviter_lost_role": "refused: creator may no longer invite",
    "invites_count": "{n} open code(s)",
    # --- import / targets / jobs / kpi -------------------------------------------------------
    "import_progress": "Importing {name}",
    "targets_rejected": "no target imported — the file has errors, no line was written:",
    "targets_imported": "Imported {rows} targets.",
    "unknown_job": "unknown job '{name}'; choose one of: {choices}.",
    "bad_week": "--week: expected like 2026-W47.",
    "future_week": "--week: week {week} has not started.",
    "week_not_over": (
        "--week: week {week} is not over (it ends on {last}); the digest and the reminders judge "
        "a whole week — pick a finished week, or add --partial to send incomplete figures anyway."
    ),
    "job_ran": "{job}: {status}, period {period}, queued {messages} messages",
    "reminder_not_due": (
        "report_reminder: the reminder for week {week} is scheduled at {due}; a run by hand before then "
        "would use up the week's reminder (communes that have not reported would not be reminded on "
        "time) — wait until then, or add --partial to send an early, labelled reminder (the scheduled "
        "one still goes out)."
    ),
    "job_writes": " in {writes} write transactions (longest {ms} ms)",
    "job_status.done": "done",
    "job_status.skipped": "skipped (already done)",
    "job_status.idle": "idle (nothing due)",
    "job_status.preview": "preview (not the period's own run)",
    "job_requeued": "re-queued {n} earlier push(es) to people who are reachable again.",
    "jobs.job": "job",
    "jobs.schedule": "schedule (cron)",
    "jobs.next": "next run",
    "jobs.period": "last period",
    "jobs.finished": "finished",
    "kpi.indicator": "indicator",
    "kpi.value": "value",
    "kpi.previous": "last week",
    "kpi.target": "target",
    "kpi.source": "source",
    # --- faq --------------------------------------------------------------------------------
    "faq.count": "count",
    "faq.question": "question (normalised)",
    "faq.last": "last asked",
    "faq.entry": "entry",
    "faq.title": "title",
    "faq.removed": "(removed)",
    "faq_no_index": "the FAQ index is not loaded (faq disabled?): nothing to filter the questions with.",
    "faq_scrubbed": "faq_questions: {before} rows rewritten into {after}.",
    "faq_warning": "warning",
    "faq_ok": "{n} entries OK in {dirs}",
    # --- web --------------------------------------------------------------------------------
    "web_unknown_person": "--as: unknown demo person '{name}'; choose one of: {choices}.",
    "web_link_who": "give --as DEMO_PERSON, or --channel and --user-id.",
    "port_busy": (
        "cannot start the web server on {host}:{port}: the port is already in use (another tocns "
        "running?) — choose another port with TOCNS_WEB_PORT (or web.port in config.yaml)."
    ),
    "port_failed": (
        "cannot start the web server on {host}:{port} ({detail}) — check TOCNS_WEB_HOST and "
        "TOCNS_WEB_PORT (or web.host, web.port in config.yaml)."
    ),
    # --- zalo -------------------------------------------------------------------------------
    "zalo_not_configured": (
        "Zalo OA is not configured: set TOCNS_ZALO_OA_APP_ID, TOCNS_ZALO_OA_SECRET_KEY and "
        "TOCNS_ZALO_OA_OA_SECRET_KEY."
    ),
    "zalo_bad_verifier": "{env}: a PKCE code verifier has 43-128 characters.",
    "zalo_no_login": "no login in progress: run `tocns zalo oa-login` without --code first.",
    "zalo_other_login": "the pasted URL belongs to another login attempt (state differs): start again.",
    "zalo_redirect_uri": "--redirect-uri (or zalo_oa.redirect_uri): the callback URL registered for the app.",
    "zalo_fixed_verifier": (
        "Using the verifier from {env}; its code challenge (as saved in the OA console): {challenge}"
    ),
    "zalo_step_open": "1. Open this link as the OA administrator and grant the permissions:",
    "zalo_step_paste": "2. Zalo redirects to your callback URL with ?code=…; paste that code (or the URL).",
    "zalo_prompt_code": "code",
    "zalo_refused": "Zalo refused the code ({detail}); run `tocns zalo oa-login` again.",
    "zalo_unreachable": (
        "could not reach Zalo at {url} ({detail}) — check this machine's network, then run "
        "`tocns zalo oa-login` again."
    ),
    "zalo_authorized": "Zalo OA authorized: tokens stored in the database (refreshed automatically).",
    "zalo_webhook": "Webhook URL to enter at developers.zalo.me → your app → Webhook: {url}",
    "zalo_events": "Enable events: {events}.",
    "zalo_both_tokens": "both the access token and the refresh token are needed.",
    "zalo_tokens_stored": "Zalo OA tokens stored in the database (refreshed automatically).",
}
