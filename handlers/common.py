"""Anyone: /start, /help, binding a chat account to the roster (by own contact or invite code)."""

from handlers.context import STAFF_ROLES, Ctx, Refusal
from handlers.messages import Reply
from handlers.resident import ask_building
from storage import audit, conversation, invites, people
from storage.models import Grid, Member, Role
from storage.roster import normalise_phone

ROLE_NAMES = {Role.MEMBER: "党员", Role.GRID_LEADER: "网格长", Role.STAFF: "社区工作人员", Role.ADMIN: "管理员"}

RESIDENT_HELP = """直接发文字、照片或位置给我，就是向社区反映问题。
/my 我的工单　/status 工单号 查进度　/cancel 工单号 撤销"""
MEMBER_HELP = """/tasks 本网格待领工单　/mine 我办理中的
/done 工单号 说明　办结工单　/extend 工单号 3d 理由　申请延期
/points 我的积分　/rank 积分榜
/duty 我的值班　/sessions 学习活动（活动开始后点「签到」）
在网格群里点「🙋 领单」即可领取工单。"""
STAFF_HELP = """/pending 待分派工单
/dispatch 工单号 网格编号　派到网格
/escalate 工单号 部门编号　转部门办理（部门签收、办结或退单）
/close 工单号 说明　办结并告知居民
/stats 本月统计（响应率、办结率、满意率等）
/newshift 安排值班　/newsession 新建学习活动（三会一课、主题党日）"""
ADMIN_HELP = """在群里发 /bindgrid 网格编号 绑定网格群，/binddept 部门编号 绑定部门群，发 /bindstaff 设为工作人员群。
命令行：gridbot import 花名册.xlsx　gridbot invite 手机号"""


def start(ctx: Ctx) -> list[Reply]:
    if ctx.member is not None:
        return [Reply(f"您好，{ctx.member.name}（{ROLE_NAMES.get(ctx.member.role, '党员')}）！\n{help_text(ctx)}")]
    if ctx.resident is not None and ctx.resident.building_id:
        return [Reply(f"您好！有什么需要帮忙的，直接发文字、照片或位置给我就行。\n{RESIDENT_HELP}")]
    greeting = ask_building(ctx)
    return [greeting, Reply("党员、网格员请点下面的按钮分享手机号绑定身份，或发送 /bind 邀请码。", ask_contact=True)]


def help_command(ctx: Ctx) -> list[Reply]:
    return [Reply(help_text(ctx))]


def help_text(ctx: Ctx) -> str:
    if ctx.member is None:
        return RESIDENT_HELP + "\n党员绑定：分享手机号，或 /bind 邀请码"
    parts = [MEMBER_HELP]
    if ctx.member.role == Role.GRID_LEADER:
        parts.append("/stats 本网格本月统计")
    if ctx.member.role in STAFF_ROLES:
        parts.append(STAFF_HELP)
    if ctx.member.role == Role.ADMIN:
        parts.append(ADMIN_HELP)
    return "\n\n".join(parts)


def bind_contact(ctx: Ctx) -> list[Reply]:
    """A shared contact binds only when it is the sender's own and its phone is on the roster."""
    contact = ctx.inbound.contact
    if contact.user_id is None or contact.user_id != ctx.inbound.user_id:
        raise Refusal("只能分享您本人的手机号来绑定（请点「📱 分享手机号」按钮）。")
    phone = normalise_phone(contact.phone)
    member = people.member_by_phone(ctx.session, phone) if phone else None
    if member is None:
        if ctx.resident is not None and phone:
            ctx.resident.phone = phone
            ctx.session.add(ctx.resident)
            audit.record(ctx.session, "resident", ctx.resident.id, ctx.actor.label, "phone_shared", ctx.now)
            return [Reply("已记下您的手机号，领单党员联系您时会用到。")]
        raise Refusal("花名册里没有这个手机号。党员请联系社区管理员；居民直接发消息反映问题即可。")
    return _bound(ctx, member, "contact")


def bind_code(ctx: Ctx, args: list[str]) -> list[Reply]:
    if not args:
        raise Refusal("请带上邀请码，例如：/bind K7MQ2XPA")
    try:
        member = invites.redeem_invite(ctx.session, args[0], ctx.now)
    except invites.InviteError as error:
        raise Refusal(str(error)) from None
    return _bound(ctx, member, "invite code")


def _bound(ctx: Ctx, member: Member, how: str) -> list[Reply]:
    audit.record(
        ctx.session,
        "identity",
        ctx.identity.id,
        ctx.actor.label,
        "member_bound",
        ctx.now,
        note=f"member:{member.id} {member.name} by {how}; was member:{ctx.identity.member_id}",
    )
    ctx.identity.member_id = member.id
    conversation.end(ctx.identity)
    ctx.session.add(ctx.identity)
    ctx.member = member
    grid = ctx.session.get(Grid, member.grid_id) if member.grid_id else None
    where = f"{grid.name} " if grid else ""
    return [Reply(f"绑定成功：{member.name}（{where}{ROLE_NAMES.get(member.role, '党员')}）。\n{help_text(ctx)}")]
