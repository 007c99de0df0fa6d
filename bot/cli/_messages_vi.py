"""The command line's lines in Vietnamese (the default language); the same keys as _messages_en."""

from __future__ import annotations

VI: dict[str, str] = {
    # --- usage mistakes ---------------------------------------------------------------------
    "missing": "thiếu {what} «{name}» cho `tocns {command}` — xem `tocns {command} --help`.",
    "missing.argument": "tham số",
    "missing.option": "tuỳ chọn",
    "no_command": "không có lệnh «{name}» — xem `tocns {command}--help`.",
    "no_option": "không có tuỳ chọn «{name}» — xem `tocns {command} --help`.",
    "bad_value": "giá trị không hợp lệ cho «{name}»: {detail}",
    "bad_value_short": "giá trị «{name}» chưa đúng — xem `tocns {command}--help`.",
    "usage": "lệnh chưa đúng: {detail} — xem `tocns --help`.",
    "unknown_lang": "--lang: không có ngôn ngữ «{name}»; chọn vi (tiếng Việt) hoặc en (tiếng Anh).",
    "unknown_channel": "--channel: không có kênh «{name}»; chọn một trong: {choices}.",
    "unknown_role": "--role: không có vai trò «{name}»; chọn một trong: {choices}.",
    "unknown_demo_user": "không có người dùng demo «{name}»; chọn một trong:\n{choices}",
    "unknown_console_user": (
        "không có tài khoản console «{name}» trong cơ sở dữ liệu này; cấp vai trò cho tài khoản đó "
        "trước: `tocns users grant --channel console --user-id {name} --role … --unit …`."
    ),
    "demo_console_real_data": (
        "Cơ sở dữ liệu này có dữ liệu thật ({units} đơn vị, {people} người): không mở console với "
        "người dùng mẫu «{name}» (như vậy sẽ tạo người mẫu trong dữ liệu thật). Để nói chuyện với bot "
        "trên cơ sở dữ liệu này: cấp vai trò cho một tài khoản console, ví dụ `tocns users grant "
        '--channel console --user-id canbo-xa --role officer --unit MÃ_XÃ --name "Họ tên"`, rồi '
        "`tocns chat --as canbo-xa`."
    ),
    "console_roles": "tài khoản console: {roles}",
    "no_file": "không tìm thấy tệp «{path}».",
    "no_unit": "--unit: không có đơn vị mã «{code}».",
    # --- run / db / demo / users / backup ---------------------------------------------------
    "no_channels": "Không có kênh nào được cấu hình (chưa có token) — mở kênh console.",
    "dashboard": "Bảng điều khiển web: {url}",
    "dashboard_link": "Đăng nhập (lãnh đạo mẫu): {link}",
    "db_upgraded": "Cơ sở dữ liệu đã ở phiên bản mới nhất: {url}",
    "db_current": "hiện tại: {current}; mới nhất: {latest}",
    "db_empty": "(trống)",
    "demo_loading": "Đang nạp dữ liệu mẫu…",
    "demo_ready": "Đã nạp dữ liệu mẫu (đơn vị mới: {units}, người mới: {people}).",
    "whole_installation": "toàn hệ thống",
    "role_granted": "Đã cấp vai trò {role} tại {where} cho người #{person}.",
    "leader_moved": (
        "Đã chuyển vai trò tổ trưởng của {team} ({unit}) từ {old} sang {new} (người #{person}); "
        "{old} nay là thành viên tổ. Đã xếp {messages} tin báo cho những người này vào hàng đợi."
    ),
    "leader_appointed": (
        "Đã giao vai trò tổ trưởng của {team} ({unit}) cho {new} (người #{person}); tổ chưa có tổ "
        "trưởng trước đó. Đã xếp {messages} tin báo vào hàng đợi."
    ),
    "leader_already": "{name} (người #{person}) đã là tổ trưởng của {team} ({unit}); không có gì thay đổi.",
    "leader_is_member": (
        "{name} (người #{person}) là tổ trưởng của {team} ({unit}), tức là đã ở trong tổ; không có gì "
        "thay đổi."
    ),
    "role_not_grantable": (
        "--role citizen: ai cũng là người dân, không cần cấp vai trò này; chọn một trong: {choices}."
    ),
    "role_wrong_kind": "--unit {code} ({unit}) là {kind}; vai trò {role} chỉ gắn với {kinds}.",
    "role_wrong_kind_none": "vai trò {role} chỉ gắn với {kinds} (--unit MÃ).",
    "unit_closed_grant": (
        "--unit {code} ({unit}) đã đóng, không nhận thêm ai; chọn một đơn vị đang hoạt động (xem "
        "`tocns units list`)."
    ),
    "kind.team": "một tổ",
    "kind.commune": "một xã/phường/đặc khu",
    "kind.district": "một quận/huyện",
    "kind.province": "một tỉnh/thành phố",
    "kind.country": "cả nước",
    "kind.or": " hoặc ",
    "kind.or_installation": " (hoặc bỏ --unit: toàn hệ thống)",
    "role_revoked": "Đã thu hồi vai trò {role} tại {where}; đã trả lại {released} phiếu hỗ trợ đang nhận.",
    "leader_revoked_leaderless": (
        "{team} ({unit}) nay chưa có tổ trưởng: yêu cầu tham gia tổ sẽ gửi tới cán bộ xã/phường cho tới "
        "khi giao tổ trưởng mới (tocns users grant --role team_leader)."
    ),
    "leader_revoked_member": "{name} vẫn là thành viên tổ (ghi buổi hỗ trợ bằng /ghi như trước).",
    "leader_revoked_out": "{name} không còn ở trong tổ.",
    "backup_written": "Đã sao lưu: {path} ({size} byte).",
    "restore_confirm": "Thay {url} bằng {file}?",
    "restored": "Đã khôi phục từ {file}.",
    "restore_cancelled": "Đã huỷ, không khôi phục gì.",
    "cancelled": "Đã huỷ.",
    "db_unreachable": (
        "database.url: không kết nối được tới cơ sở dữ liệu {url} ({detail}) — kiểm tra "
        "TOCNS_DATABASE_URL (hoặc database.url trong config.yaml) và máy chủ cơ sở dữ liệu."
    ),
    "backup.in_memory": "database.url: cơ sở dữ liệu SQLite trong bộ nhớ thì không sao lưu được.",
    "backup.cannot_write": "không ghi được {path}: {detail}",
    "backup.cannot_mkdir": "không tạo được thư mục {path}: {detail}",
    "backup.is_folder": "{path} là một thư mục: hãy ghi tên tệp, hoặc để `tocns backup` tự đặt tên tệp.",
    "backup.no_database": "không tìm thấy tệp cơ sở dữ liệu: {path}",
    "backup.failed": "sao lưu không thành công: {detail}",
    "backup.integrity": "bản sao lưu không qua được bước kiểm tra toàn vẹn: {detail}",
    "backup.no_pg_dump": "không tìm thấy pg_dump: hãy cài bộ công cụ PostgreSQL (gói postgresql-client).",
    "backup.pg_dump_failed": "pg_dump không thành công: {detail}",
    "backup.restore_pg": (
        "với PostgreSQL, khôi phục bằng pg_restore --clean --dbname … TỆP (xem docs/deploy.md)."
    ),
    "backup.no_file": "không tìm thấy tệp sao lưu: {path}",
    "backup.unusable": "{path} không phải cơ sở dữ liệu SQLite dùng được ({detail})",
    "backup.unhealthy": "{path} không phải cơ sở dữ liệu SQLite nguyên vẹn",
    "backup.not_tocns": "{path} không phải bản sao lưu của tocns ({detail})",
    "backup.revision": (
        "{path} có phiên bản lược đồ {found}; phiên bản tocns này cần {expected} (khôi phục tệp đó "
        "bằng đúng phiên bản tocns đã tạo ra nó, rồi chạy `tocns db upgrade`)."
    ),
    "backup.bot_running": "một bot (tocns run) đang chạy trên cơ sở dữ liệu này: hãy dừng nó trước.",
    "backup.lease_held": (
        "một bot ({holder}) đang giữ cơ sở dữ liệu (khoá {lease} đến {until} UTC): hãy dừng nó trước."
    ),
    # --- outbox status ----------------------------------------------------------------------
    "outbox.kind": "loại",
    "outbox.status": "trạng thái",
    "outbox.count": "số lượng",
    "outbox.unreachable": "Người không nhận được tin (đã chặn bot?)",
    "outbox.person": "người",
    "outbox.channel": "kênh",
    "outbox.since": "không nhận được từ",
    "outbox.kept": "tin đang giữ",
    "outbox.resend": (
        "Tin của họ (trong 7 ngày trước) được gửi lại khi họ nhắn cho bot; `tocns jobs run` và bot "
        "đang chạy sẽ kiểm tra việc này."
    ),
    "outbox.window": "khung nhắn tin Zalo OA",
    "outbox.pending": "đang chờ",
    "outbox.billable": "48 giờ – 7 ngày (tính phí)",
    "outbox.closed": "quá 7 ngày (bị từ chối: chuyển kênh khác)",
    # --- units / invites --------------------------------------------------------------------
    "province_or_all": "cần đúng một trong hai: --province MÃ hoặc --all.",
    "units_loading": "Đang nạp danh mục…",
    "units_imported": "Đã nạp {total} đơn vị ({added} mới, {updated} đổi tên).",
    "units_csv_imported": "Đã nhập {total} dòng ({added} mới, {updated} thay đổi).",
    "csv_row": "  dòng {row}: {reason}",
    "units.code": "mã",
    "units.name": "tên",
    "units.kind": "loại",
    "units.active": "hoạt động",
    "units.yes": "có",
    "units.closed": "đã đóng",
    "units_count": "{n} đơn vị",
    "role_not_invitable": "--role: mã mời không cấp được vai trò «{name}»; chọn một trong: {choices}.",
    "invite_created": "Mã mời: {code} — vai trò {role} tại {where}, {uses} lượt, hết hạn {expires} UTC.",
    "invite_join": "Người được mời nhắn cho bot: /thamgia {code}",
    "invite_link": "Liên kết Telegram: {url}",
    "invite_link_unknown": (
        "Liên kết Telegram: https://t.me/<tên bot>?start={code} (đặt {env} để in đủ liên kết; "
        "khi chạy ngoại tuyến chưa biết tên bot)"
    ),
    "invite_revoked": "Đã thu hồi mã mời {code}.",
    "invite_already_revoked": "Mã mời {code} đã bị thu hồi từ trước; không có gì thay đổi.",
    "invites.code": "mã",
    "invites.role": "vai trò",
    "invites.unit": "đơn vị",
    "invites.uses_left": "lượt",
    "invites.expires": "hết hạn (UTC)",
    "invites.created_by": "tạo bởi: {name}",
    "invites.state": "trạng thái",
    "invites.approval": "cần duyệt",
    "invites.installation": "— (toàn hệ thống)",
    "invites.operator": "dòng lệnh (CLI)",
    "invites.open": "đang mở",
    "invites.unit_closed": "bị từ chối: đơn vị đã đóng",
    "invites.inviter_lost_role": "bị từ chối: người tạo không còn quyền mời",
    "invites_count": "{n} mã đang mở",
    # --- import / targets / jobs / kpi -------------------------------------------------------
    "import_progress": "Nhập {name}",
    "targets_rejected": "chưa nhập chỉ tiêu nào — tệp có lỗi, không dòng nào được ghi:",
    "targets_imported": "Đã nhập {rows} chỉ tiêu.",
    "unknown_job": "không có việc «{name}»; chọn một trong: {choices}.",
    "bad_week": "--week: cần dạng 2026-W47.",
    "future_week": "--week: tuần {week} chưa bắt đầu.",
    "week_not_over": (
        "--week: tuần {week} chưa kết thúc (đến hết ngày {last}); bản tin và nhắc việc tính trên "
        "cả tuần — chọn tuần đã xong, hoặc thêm --partial nếu thật sự muốn gửi số liệu dở dang."
    ),
    "job_ran": "{job}: {status}, kỳ {period}, đã xếp {messages} tin nhắn vào hàng đợi",
    "reminder_not_due": (
        "report_reminder: lời nhắc báo cáo tuần {week} được lên lịch lúc {due}; chạy tay trước giờ đó "
        "sẽ dùng mất lượt nhắc của tuần (xã chưa báo cáo sẽ không được nhắc đúng giờ nữa) — chờ đến "
        "giờ đó, hoặc thêm --partial để gửi một lời nhắc sớm có ghi chú (lời nhắc theo lịch vẫn được gửi)."
    ),
    "job_writes": " ({writes} giao dịch ghi, lâu nhất {ms} ms)",
    "job_status.done": "xong",
    "job_status.skipped": "bỏ qua (đã chạy rồi)",
    "job_status.idle": "không có việc đến hạn",
    "job_status.preview": "bản xem trước (không tính là lượt gửi của kỳ)",
    "job_requeued": "đã xếp lại {n} tin trước đây cho người đã nhận được tin trở lại.",
    "jobs.job": "việc",
    "jobs.schedule": "lịch (cron)",
    "jobs.next": "lần chạy tới",
    "jobs.period": "kỳ gần nhất",
    "jobs.finished": "xong lúc",
    "kpi.indicator": "chỉ số",
    "kpi.value": "giá trị",
    "kpi.previous": "tuần trước",
    "kpi.target": "chỉ tiêu",
    "kpi.source": "nguồn",
    # --- faq --------------------------------------------------------------------------------
    "faq.count": "số lần",
    "faq.question": "câu hỏi (đã chuẩn hoá)",
    "faq.last": "hỏi lần cuối",
    "faq.entry": "mục",
    "faq.title": "tiêu đề",
    "faq.removed": "(đã xoá)",
    "faq_no_index": "chưa nạp chỉ mục FAQ (faq đang tắt?): không có gì để lọc câu hỏi.",
    "faq_scrubbed": "faq_questions: đã viết lại {before} dòng thành {after} dòng.",
    "faq_warning": "cảnh báo",
    "faq_ok": "{n} mục hợp lệ trong {dirs}",
    # --- web --------------------------------------------------------------------------------
    "web_unknown_person": "--as: không có người mẫu «{name}»; chọn một trong: {choices}.",
    "web_link_who": "cần --as NGƯỜI_MẪU, hoặc --channel và --user-id.",
    "port_busy": (
        "không mở được máy chủ web tại {host}:{port}: cổng đang được dùng (có thể một tocns khác "
        "đang chạy) — đổi cổng bằng TOCNS_WEB_PORT (hoặc web.port trong config.yaml)."
    ),
    "port_failed": (
        "không mở được máy chủ web tại {host}:{port} ({detail}) — kiểm tra TOCNS_WEB_HOST và "
        "TOCNS_WEB_PORT (hoặc web.host, web.port trong config.yaml)."
    ),
    # --- zalo -------------------------------------------------------------------------------
    "zalo_not_configured": (
        "chưa cấu hình Zalo OA: đặt TOCNS_ZALO_OA_APP_ID, TOCNS_ZALO_OA_SECRET_KEY và "
        "TOCNS_ZALO_OA_OA_SECRET_KEY."
    ),
    "zalo_bad_verifier": "{env}: mã xác minh PKCE (code verifier) phải dài 43-128 ký tự.",
    "zalo_no_login": "chưa bắt đầu đăng nhập: chạy `tocns zalo oa-login` không kèm --code trước.",
    "zalo_other_login": (
        "đường dẫn vừa dán thuộc một lần đăng nhập khác (state khác nhau): hãy bắt đầu lại."
    ),
    "zalo_redirect_uri": (
        "--redirect-uri (hoặc zalo_oa.redirect_uri): cần URL callback đã đăng ký cho ứng dụng."
    ),
    "zalo_fixed_verifier": (
        "Dùng mã xác minh trong {env}; mã challenge của nó (như đã lưu trong trang quản lý OA): {challenge}"
    ),
    "zalo_step_open": "1. Mở đường dẫn này bằng tài khoản quản trị OA và cấp quyền:",
    "zalo_step_paste": "2. Zalo chuyển về URL callback kèm ?code=…; dán mã đó (hoặc cả URL) vào đây.",
    "zalo_prompt_code": "mã",
    "zalo_refused": "Zalo từ chối mã ({detail}); chạy lại `tocns zalo oa-login`.",
    "zalo_unreachable": (
        "không kết nối được tới Zalo tại {url} ({detail}) — kiểm tra mạng của máy này rồi chạy lại "
        "`tocns zalo oa-login`."
    ),
    "zalo_authorized": "Đã cấp quyền Zalo OA: token đã lưu trong cơ sở dữ liệu (tự làm mới).",
    "zalo_webhook": "URL webhook cần nhập tại developers.zalo.me → ứng dụng → Webhook: {url}",
    "zalo_events": "Bật các sự kiện: {events}.",
    "zalo_both_tokens": "cần cả access token lẫn refresh token.",
    "zalo_tokens_stored": "Đã lưu token Zalo OA vào cơ sở dữ liệu (tự làm mới).",
}
