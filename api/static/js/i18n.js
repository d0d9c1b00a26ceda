// All console labels in one dictionary (English / 简体中文). Elements carry data-i18n="key"
// (text) or data-i18n-attr="attr:key" (aria-label, title, placeholder); scripts call t(key).
const STRINGS = {
  en: {
    lang: "中文 · ZH", langLabel: "Switch language / 切换语言",
    app: "Lookout", command: "Command room", unit: "Patrol unit", fences: "Fence editor",
    patrol: "Video patrol", reports: "Reports", nav: "Pages",
    token: "Access token", connect: "Connect", logout: "Log out",
    username: "User name", password: "Password", signIn: "Sign in",
    badLogin: "Wrong user name or password.", tooManyLogins: "Too many attempts; try again in {s} s.",
    needToken: "Sign in, or enter an access token, to continue. Nothing is shown without a session.",
    disconnected: "disconnected", connecting: "connecting…", live: "live", reconnecting: "reconnecting…",
    error: "error", forbidden: "This session's role may not use this page.",
    alerts: "Live alerts", board: "1-3-5 board", map: "Site map", noAlerts: "No alerts yet.",
    noIncidents: "No open incidents.", incident: "Incident", alarm: "ALARM",
    ack: "Acknowledge", acked: "acknowledged", dispatch: "Dispatch", dismiss: "False alarm",
    alertOngoing: "ongoing · update {n}", alertEnded: "ended",
    notAvailable: "Not available on this server yet", sound: "Sound", soundOn: "Sound on", soundOff: "Sound off",
    tier: "Tier", tier1: "≤1 min", tier2: "≤3 min", tier3: "≤5 min", noOrder: "no unit ordered",
    left: "left", late: "late", cameras: "Cameras", units: "Units",
    cam_live: "live", cam_stale: "no recent frame", cam_none: "no frame yet", cameraHealth: "Camera health",
    st_pending: "pending", st_notified: "notified", st_acknowledged: "acknowledged", st_en_route: "en route",
    st_on_scene: "on scene", st_resolved: "resolved", st_declined: "declined", st_expired: "expired",
    st_escalated: "escalated", st_cancelled: "cancelled",
    sev_low: "low", sev_medium: "medium", sev_high: "high", sev_critical: "critical",
    myOrders: "My orders", noOrders: "No open orders. Stay on patrol.", place: "Place",
    a_acknowledge: "Acknowledge", a_en_route: "En route", a_on_scene: "On scene", a_resolve: "Resolved",
    a_decline: "Decline", note: "Note (for the report)", eta: "ETA", distance: "distance",
    openMap: "Coordinates", unitFor: "Unit",
    camera: "Camera", rules: "Rules", addZone: "Draw zone", addLine: "Draw tripwire", finish: "Finish shape",
    cancelDraw: "Cancel", deleteRule: "Delete rule", save: "Save new version", saved: "Saved version",
    invalid: "Not saved — fix these:", kind: "Kind", noFrame: "No frame from this camera yet",
    drawHelp: "Click to add points; Enter or double-click to finish; drag a point to move it; Esc cancels.",
    version: "version", comment: "Comment (audit)", history: "History", options: "Rule options",
    close: "Close", tryReplay: "See what the change fires on a recording:", newRule: "New rule", conflict: "Someone saved meanwhile; reload to see their version.",
    tour: "Tour", next: "Next", prev: "Previous", pause: "Pause", play: "Play", interval: "Seconds per camera",
    manualAlert: "Raise alert (A)", manualSent: "Manual alert raised",
    responseTimes: "Response times per tier", within: "reached within", median: "median", p90: "p90",
    toAck: "to acknowledge", toScene: "to on scene", count: "incidents", period: "Period",
    cam_connecting: "connecting", cam_stalled: "stalled", cam_lost: "lost", cam_ended: "ended",
    cam_silent: "no report from worker", lastFrame: "last frame", never: "never", ago: "ago",
    outageSince: "down since", reconnects: "reconnects", details: "Details", noReports: "No field report yet.",
    photoBy: "Photo by", snapshot: "Snapshot", clip: "Evidence clip", clipNotReady: "clip not ready yet",
    observed: "Observed", fieldReports: "Field reports", ackedBy: "acknowledged by", notAcked: "not acknowledged",
    photo: "Photo (optional)", photoChosen: "Chosen photo", removePhoto: "Remove photo", mapLabel: "Map", whereUnknown: "your position is not known",
    sceneIs: "Scene", from_gps: "from this phone's GPS", from_live: "from your last reported position",
    from_post: "from your duty post", you: "You", scene: "Scene", atScene: "here",
    dir_N: "north", dir_NE: "north-east", dir_E: "east", dir_SE: "south-east", dir_S: "south",
    dir_SW: "south-west", dir_W: "west", dir_NW: "north-west",
    attainment: "1-3-5 attainment", groupBy: "Group by", byArea: "area", byDay: "day", byWeek: "week", byUnit: "unit",
    byNode: "station / county (rolled up)",
    noData: "No data for this period.", alertsPerRule: "Alerts per rule", alertsPerCamera: "Alerts per camera",
    coverageMap: "Coverage of the tiers", placesCovered: "places reached in time", withinTarget: "on scene within the tier's target",
    inTime: "in time", missed: "not in time", post: "posts", noUnit: "no unit of this tier",
    distribution: "Response-time distribution", notReached: "not reached", deadline: "deadline", sec: "s",
    distHelp: "Incidents per time from the alert, per tier; the dashed line is the tier's deadline.",
    timeBin: "seconds from the alert", onSceneN: "on scene", ackN: "acknowledged",
  },
  zh: {
    lang: "EN", langLabel: "切换语言 / Switch language",
    app: "瞭望", command: "指挥室", unit: "巡逻单元", fences: "电子围栏编辑",
    patrol: "视频巡逻", reports: "报表", nav: "页面",
    token: "访问令牌", connect: "连接", logout: "退出",
    username: "用户名", password: "密码", signIn: "登录",
    badLogin: "用户名或密码错误。", tooManyLogins: "尝试次数过多，请 {s} 秒后再试。",
    needToken: "请登录或输入访问令牌。未登录时不显示任何数据。",
    disconnected: "未连接", connecting: "连接中…", live: "实时", reconnecting: "重新连接中…",
    error: "错误", forbidden: "当前角色无权使用此页面。",
    alerts: "实时告警", board: "1-3-5 处置看板", map: "现场地图", noAlerts: "暂无告警。",
    noIncidents: "暂无未结事件。", incident: "事件", alarm: "警报",
    ack: "确认", acked: "已确认", dispatch: "派警", dismiss: "误报",
    alertOngoing: "持续中 · 第{n}次更新", alertEnded: "已结束",
    notAvailable: "服务器暂不支持", sound: "声音", soundOn: "声音开", soundOff: "声音关",
    tier: "梯队", tier1: "≤1 分钟", tier2: "≤3 分钟", tier3: "≤5 分钟", noOrder: "未派单元",
    left: "剩余", late: "超时", cameras: "摄像机", units: "单元",
    cam_live: "在线", cam_stale: "画面中断", cam_none: "暂无画面", cameraHealth: "摄像机状态",
    st_pending: "待推送", st_notified: "已通知", st_acknowledged: "已接警", st_en_route: "途中",
    st_on_scene: "已到场", st_resolved: "已处置", st_declined: "已拒绝", st_expired: "已超时",
    st_escalated: "已升级", st_cancelled: "已取消",
    sev_low: "低", sev_medium: "中", sev_high: "高", sev_critical: "紧急",
    myOrders: "我的任务", noOrders: "暂无任务，继续巡逻。", place: "地点",
    a_acknowledge: "接警", a_en_route: "出发", a_on_scene: "到场", a_resolve: "处置完毕",
    a_decline: "拒绝", note: "备注（用于报告）", eta: "预计到达", distance: "距离",
    openMap: "坐标", unitFor: "单元",
    camera: "摄像机", rules: "规则", addZone: "画区域", addLine: "画绊线", finish: "完成图形",
    cancelDraw: "取消", deleteRule: "删除规则", save: "保存为新版本", saved: "已保存版本",
    invalid: "未保存——请修正：", kind: "类型", noFrame: "该摄像机暂无画面",
    drawHelp: "单击添加点；回车或双击完成；拖动点可移动；Esc 取消。",
    version: "版本", comment: "备注（审计）", history: "历史", options: "规则选项",
    close: "关闭", tryReplay: "在录像上查看此次修改会触发什么：", newRule: "新规则", conflict: "他人已保存新版本，请重新加载。",
    tour: "轮巡", next: "下一个", prev: "上一个", pause: "暂停", play: "播放", interval: "每台秒数",
    manualAlert: "人工告警 (A)", manualSent: "已发起人工告警",
    responseTimes: "各梯队响应时间", within: "达标率", median: "中位数", p90: "90 分位",
    toAck: "接警", toScene: "到场", count: "事件数", period: "统计周期",
    cam_connecting: "连接中", cam_stalled: "画面停滞", cam_lost: "信号丢失", cam_ended: "已结束",
    cam_silent: "无状态上报", lastFrame: "最近画面", never: "从未", ago: "前",
    outageSince: "中断自", reconnects: "重连次数", details: "详情", noReports: "暂无现场报告。",
    photoBy: "照片提交人", snapshot: "抓拍", clip: "证据视频", clipNotReady: "视频尚未生成",
    observed: "发生时间", fieldReports: "现场报告", ackedBy: "已确认：", notAcked: "未确认",
    photo: "照片（可选）", photoChosen: "已选照片", removePhoto: "移除照片", mapLabel: "地图", whereUnknown: "位置未知",
    sceneIs: "现场", from_gps: "来自本机定位", from_live: "来自最近上报位置",
    from_post: "来自执勤岗位", you: "我", scene: "现场", atScene: "就在此处",
    dir_N: "北", dir_NE: "东北", dir_E: "东", dir_SE: "东南", dir_S: "南",
    dir_SW: "西南", dir_W: "西", dir_NW: "西北",
    attainment: "1-3-5 达标率", groupBy: "分组", byArea: "区域", byDay: "日", byWeek: "周", byUnit: "单元",
    byNode: "派出所 / 分局（汇总）",
    noData: "该周期无数据。", alertsPerRule: "各规则告警数", alertsPerCamera: "各摄像机告警数",
    coverageMap: "梯队覆盖图", placesCovered: "个地点可按时到达", withinTarget: "梯队时限内到场",
    inTime: "可按时到达", missed: "无法按时到达", post: "岗位", noUnit: "该梯队无单元",
    distribution: "响应时间分布", notReached: "未到达", deadline: "时限", sec: "秒",
    distHelp: "各梯队按告警后用时统计的事件数；虚线为该梯队时限。",
    timeBin: "告警后秒数", onSceneN: "到场", ackN: "接警",
  },
};

let lang = localStorage.getItem("lookout.lang") || (navigator.language.startsWith("zh") ? "zh" : "en");
const listeners = [];

export function t(key) {
  return STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
}

export function applyLabels(root = document) {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  root.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll("[data-i18n-attr]").forEach((el) => {
    for (const pair of el.dataset.i18nAttr.split(",")) {
      const [attr, key] = pair.split(":");
      el.setAttribute(attr, t(key));
    }
  });
}

// Pages re-render their dynamic parts when the language changes.
export function onLanguage(fn) { listeners.push(fn); }

export function toggleLanguage() {
  lang = lang === "en" ? "zh" : "en";
  localStorage.setItem("lookout.lang", lang);
  applyLabels();
  listeners.forEach((fn) => fn());
}
