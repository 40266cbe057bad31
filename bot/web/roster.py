"""花名册 /web/roster: grids, buildings, members, departments, shifts and sessions — list, add, edit,
deactivate (never delete), and the whole roster imported or exported as .xlsx in the roster file's
format. Admins only: the roster decides who may do what (CONTRACT: admins import the roster).

The rules are the roster file's and the writing is `gridbot import`'s (storage/roster_admin.py).
"""

import tempfile
from pathlib import Path
from urllib.parse import urlencode

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.web.pages import Refused, Web, secured
from storage import roster_admin, roster_export
from storage.models import Role
from storage.roster_file import COLUMNS, ROLES, SESSION_KINDS, SHEETS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MOST_BYTES = 5 * 1024 * 1024  # a roster of a few thousand rows is well under 1 MB
SHEET_NAMES = {
    "grids": "网格",
    "buildings": "楼栋",
    "members": "人员",
    "departments": "部门",
    "shifts": "值班",
    "sessions": "三会一课",
}
LABELS = {
    "code": "编号",
    "name": "名称",
    "leader_phone": "网格长手机号",
    "telegram_chat_id": "Telegram 群 ID",
    "wecom_webhook": "企业微信机器人地址",
    "grid_code": "网格编号",
    "phone": "手机号",
    "role": "角色",
    "branch": "支部",
    "date": "日期（2026-11-25）",
    "start": "开始",
    "end": "结束",
    "place": "地点",
    "phones": "手机号（多个用 ; 分隔）",
    "title": "标题",
    "kind": "类型",
}
CHOICES = {("members", "role"): ROLES, ("sessions", "kind"): SESSION_KINDS}
HINTS = {
    ("shifts", "start"): "08:30",
    ("shifts", "end"): "12:00",
    ("sessions", "start"): "2026-11-25 14:30",
    ("sessions", "end"): "2026-11-25 16:00",
}
ROLE_NAMES = {"member": "党员", "grid_leader": "网格长", "staff": "社区工作人员", "admin": "管理员"}


def _sheet(request: Request) -> str | None:
    """The sheet a request is about (`members` when none is named); None when there is no such sheet."""
    sheet = request.path_params.get("sheet") or request.query_params.get("sheet") or "members"
    return sheet if sheet in SHEETS else None


def _no_sheet() -> Refused:
    return Refused("没有这张表。", 404, "没有这张表")


def _admin(member) -> None:
    if member.role != Role.ADMIN:
        raise Refused("花名册只有管理员可以查看和修改。", 403, "无权查看")


def _refused(refused: roster_admin.RowRefused) -> Refused:
    return Refused(str(refused), 409, "未能保存")


def roster_routes(web: Web) -> list[Route]:
    services = web.services
    tz = services.timezone

    def shown(request: Request, name: str, member, sheet: str, **values) -> Response:
        return web.page(
            request,
            name,
            member=member,
            sheet=sheet,
            sheets=SHEET_NAMES,
            columns=COLUMNS[sheet],
            labels=LABELS,
            choices={column: CHOICES.get((sheet, column)) for column in COLUMNS[sheet]},
            hints={column: HINTS.get((sheet, column), "") for column in COLUMNS[sheet]},
            role_names=ROLE_NAMES,
            told=request.query_params.get("told", "")[:200],
            **values,
        )

    def back_to(sheet: str, told: str) -> Response:
        return RedirectResponse(f"/web/roster?{urlencode({'sheet': sheet, 'told': told})}", status_code=303)

    async def listing(request: Request) -> Response:
        sheet = _sheet(request)
        if sheet is None:
            raise _no_sheet()

        def read(session, member):
            _admin(member)
            return roster_export.lines(session, sheet, tz)

        member, lines = await web.read(request, read)
        return shown(request, "roster.html", member, sheet, lines=lines)

    async def edit_page(request: Request) -> Response:
        sheet, row_id = _sheet(request), request.path_params["row_id"]
        if sheet is None:
            raise _no_sheet()

        def read(session, member):
            _admin(member)
            row = session.get(roster_export.MODELS[sheet], row_id)
            if row is None:
                raise Refused("没有找到这一行。", 404, "没有这一行")
            return roster_admin.cells_of(session, sheet, row, tz)

        member, cells = await web.read(request, read)
        return shown(request, "roster_edit.html", member, sheet, row_id=row_id, cells=cells)

    async def save(request: Request) -> Response:
        sheet, row_id = _sheet(request), request.path_params.get("row_id")
        if sheet is None:
            raise _no_sheet()

        def write(session, member, form):
            _admin(member)
            cells = {column: str(form.get(column) or "") for column in COLUMNS[sheet]}
            try:
                return roster_admin.save(session, sheet, cells, f"member:{member.id}", services.clock(), tz, row_id)
            except roster_admin.RowRefused as refused:
                raise _refused(refused) from None

        await web.change(request, write)
        return back_to(sheet, f"{SHEET_NAMES[sheet]}已{'修改' if row_id else '添加'}。")

    async def activate(request: Request) -> Response:
        sheet, row_id = _sheet(request), request.path_params["row_id"]
        if sheet is None:
            raise _no_sheet()

        def write(session, member, form):
            _admin(member)
            active = form.get("active") == "1"
            try:
                roster_admin.set_active(session, sheet, row_id, active, f"member:{member.id}", services.clock())
            except roster_admin.RowRefused as refused:
                raise _refused(refused) from None
            return active

        _member, active = await web.change(request, write)
        return back_to(sheet, "已恢复启用。" if active else "已停用（历史记录保留）。")

    async def export(request: Request) -> Response:
        def read(session, member):
            _admin(member)
            return roster_export.workbook_bytes(session, tz)

        _member, body = await web.read(request, read)
        stamp = web.local(services.clock(), "%Y%m%d")
        headers = {"Content-Disposition": f'attachment; filename="roster-{stamp}.xlsx"'}
        return secured(Response(body, media_type=XLSX, headers=headers))

    async def upload(request: Request) -> Response:
        def write(session, member, form):
            _admin(member)
            file = form.get("file")
            if not isinstance(file, UploadFile) or not file.filename:
                raise Refused("请选择要导入的花名册 .xlsx 文件。", 400, "未能导入")
            data = file.file.read(MOST_BYTES + 1)
            if len(data) > MOST_BYTES:
                raise Refused("文件太大（超过 5 MB），请检查是否选错了文件。", 413, "未能导入")
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "roster.xlsx"
                path.write_bytes(data)
                try:
                    return roster_admin.import_file(session, path, f"member:{member.id}", services.clock(), tz)
                except roster_admin.RowRefused as refused:
                    raise Refused(f"花名册有问题，没有导入任何一行：\n{refused}", 409, "未能导入") from None

        _member, imported = await web.change(request, write)
        counts = "；".join(
            f"{SHEET_NAMES[sheet]} " + "、".join(f"{kind} {n}" for kind, n in figures.items())
            for sheet, figures in imported.items()
        )
        return back_to("members", f"已导入：{counts}" if counts else "已导入。")

    return [
        web.route("/web/roster", listing),
        web.route("/web/roster.xlsx", export),
        web.route("/web/roster/import", upload, methods=["POST"]),
        web.route("/web/roster/{sheet}", save, methods=["POST"]),
        web.route("/web/roster/{sheet}/{row_id:int}", edit_page),
        web.route("/web/roster/{sheet}/{row_id:int}", save, methods=["POST"]),
        web.route("/web/roster/{sheet}/{row_id:int}/active", activate, methods=["POST"]),
    ]
