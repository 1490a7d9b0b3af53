<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="zh_CN">
<context>
    <name />
    <message numerus="yes">
        <source>New red card</source>
        <extracomment>the title and text of the message shown (also without a tray)</extracomment>
        <translation><numerusform>新红牌</numerusform></translation>
    </message>
    <message numerus="yes">
        <source>%n new red cards</source>
        <translation><numerusform>%n 张新红牌</numerusform></translation>
    </message>
</context>
<context>
    <name>AboutDialog</name>
    <message>
        <source>About HallWatch</source>
        <translation>关于 HallWatch</translation>
    </message>
    <message>
        <source>&lt;h2&gt;HallWatch&lt;/h2&gt;&lt;p&gt;Electronic supervision of government service halls&lt;/p&gt;</source>
        <translation>&lt;h2&gt;HallWatch 政务大厅电子监察&lt;/h2&gt;&lt;p&gt;政务服务大厅电子监察客户端&lt;/p&gt;</translation>
    </message>
</context>
<context>
    <name>BookmarkDialog</name>
    <message>
        <source>Bookmark</source>
        <translation>书签</translation>
    </message>
    <message>
        <source>%1 at %2</source>
        <translation>%1，%2</translation>
    </message>
    <message>
        <source>What is there to see (optional)</source>
        <translation>画面中有什么（可选）</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>处置意见</translation>
    </message>
    <message>
        <source>Saving the bookmark…</source>
        <translation>正在保存书签…</translation>
    </message>
    <message>
        <source>Not bookmarked: %1</source>
        <translation>未能添加书签：%1</translation>
    </message>
</context>
<context>
    <name>CameraGrid</name>
    <message>
        <source>layouts 1, 2×2, 3×3, 4×4, 5×5, 1+5, 1+7</source>
        <translation>布局 1、2×2、3×3、4×4、5×5、1+5、1+7</translation>
    </message>
    <message>
        <source>Arrow keys</source>
        <translation>方向键</translation>
    </message>
    <message>
        <source>select a tile</source>
        <translation>选择画面</translation>
    </message>
    <message>
        <source>Enter / double-click</source>
        <translation>回车 / 双击</translation>
    </message>
    <message>
        <source>maximise the tile (main stream) and back</source>
        <translation>最大化画面（主码流）或还原</translation>
    </message>
    <message>
        <source>back from a maximised tile</source>
        <translation>从最大化画面还原</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>Delete 键</translation>
    </message>
    <message>
        <source>take the camera off the tile</source>
        <translation>从画面移除摄像机</translation>
    </message>
    <message>
        <source>start or stop the tour of named layouts</source>
        <translation>开始或停止轮巡已保存的布局</translation>
    </message>
    <message>
        <source>Maximise (main stream)</source>
        <translation>最大化（主码流）</translation>
    </message>
    <message>
        <source>Back to the layout</source>
        <translation>返回布局</translation>
    </message>
    <message>
        <source>Keyframes only (saves CPU)</source>
        <translation>仅关键帧（节省 CPU）</translation>
    </message>
    <message>
        <source>Edit seat regions…</source>
        <translation>编辑座位区域…</translation>
    </message>
    <message>
        <source>Take the camera off this tile</source>
        <translation>从此画面移除摄像机</translation>
    </message>
    <message>
        <source>recording</source>
        <translation>正在录像</translation>
    </message>
    <message>
        <source>sub-stream</source>
        <translation>子码流</translation>
    </message>
    <message>
        <source>main stream</source>
        <translation>主码流</translation>
    </message>
    <message>
        <source>Drag a camera here</source>
        <translation>将摄像机拖到这里</translation>
    </message>
    <message>
        <source>Unknown camera %1</source>
        <translation>未知摄像机 %1</translation>
    </message>
    <message>
        <source>This camera cannot be shown (details in the log)</source>
        <translation>无法显示此摄像机（详见日志）</translation>
    </message>
    <message>
        <source>connecting…</source>
        <translation>正在连接…</translation>
    </message>
    <message>
        <source>no new picture for %1 s</source>
        <translation>%1 秒无新画面</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1：%2</translation>
    </message>
    <message>
        <source>REC</source>
        <translation>录像</translation>
    </message>
    <message>
        <source>live</source>
        <translation>实时</translation>
    </message>
    <message>
        <source>connecting</source>
        <translation>正在连接</translation>
    </message>
    <message>
        <source>reconnecting</source>
        <translation>正在重连</translation>
    </message>
    <message>
        <source>stalled</source>
        <translation>画面停滞</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>连接失败</translation>
    </message>
    <message>
        <source>ended</source>
        <translation>已结束</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>the camera refused the user name or password</source>
        <translation>摄像机拒绝了用户名或密码</translation>
    </message>
    <message>
        <source>the camera refused access</source>
        <translation>摄像机拒绝访问</translation>
    </message>
    <message>
        <source>no stream at this address</source>
        <translation>该地址没有视频流</translation>
    </message>
    <message>
        <source>no video for %1 s</source>
        <translation>%1 秒无视频</translation>
    </message>
    <message>
        <source>no answer within %1 s</source>
        <translation>%1 秒内无应答</translation>
    </message>
    <message>
        <source>connection refused: nothing listens at %1</source>
        <translation>连接被拒绝：%1 无服务</translation>
    </message>
    <message>
        <source>the connection was cut</source>
        <translation>连接已中断</translation>
    </message>
    <message>
        <source>the camera closed the stream</source>
        <translation>摄像机关闭了视频流</translation>
    </message>
    <message>
        <source>the server sent data that is not a video stream</source>
        <translation>服务器发来的不是视频流</translation>
    </message>
    <message>
        <source>the stream has no video</source>
        <translation>该流没有视频</translation>
    </message>
    <message>
        <source>this kind of stream is not supported</source>
        <translation>不支持此类视频流</translation>
    </message>
    <message>
        <source>file not found</source>
        <translation>文件不存在</translation>
    </message>
    <message>
        <source>the file ended</source>
        <translation>文件已播放完</translation>
    </message>
    <message>
        <source>the picture could not be decoded</source>
        <translation>画面无法解码</translation>
    </message>
    <message>
        <source>connection error (details in the log)</source>
        <translation>连接错误（详见日志）</translation>
    </message>
    <message>
        <source>keyframes only</source>
        <translation>仅关键帧</translation>
    </message>
    <message>
        <source>green light</source>
        <translation>绿灯</translation>
    </message>
    <message>
        <source>notice</source>
        <translation>提示</translation>
    </message>
    <message>
        <source>yellow light</source>
        <translation>黄灯</translation>
    </message>
    <message>
        <source>red light</source>
        <translation>红灯</translation>
    </message>
</context>
<context>
    <name>CameraTree</name>
    <message>
        <source>Cameras</source>
        <translation>摄像机</translation>
    </message>
    <message>
        <source>No window</source>
        <translation>未关联窗口</translation>
    </message>
    <message>
        <source>Drag onto a tile, or double-click to show it</source>
        <translation>拖到画面上，或双击显示</translation>
    </message>
</context>
<context>
    <name>CasesModel</name>
    <message>
        <source>Number</source>
        <extracomment>the first page of a new filter or sort is shown: ms from the request how many cases the filter selects (asked after the first page) a page was appended: (rows now loaded) a query failed: words</extracomment>
        <translation>办件编号</translation>
    </message>
    <message>
        <source>Applicant</source>
        <translation>申请人</translation>
    </message>
    <message>
        <source>Case type</source>
        <translation>事项</translation>
    </message>
    <message>
        <source>Time left</source>
        <translation>剩余时限</translation>
    </message>
    <message>
        <source>Warning</source>
        <translation>预警</translation>
    </message>
    <message>
        <source>Promised due</source>
        <translation>承诺期限</translation>
    </message>
    <message>
        <source>Legal due</source>
        <translation>法定期限</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Window</source>
        <translation>窗口</translation>
    </message>
    <message>
        <source>Department</source>
        <translation>部门</translation>
    </message>
    <message>
        <source>Submitted</source>
        <translation>已申请</translation>
    </message>
    <message>
        <source>paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <source>overdue {n} wd</source>
        <translation>超期 {n} 个工作日</translation>
    </message>
    <message>
        <source>due today</source>
        <translation>今日到期</translation>
    </message>
    <message>
        <source>{n} wd</source>
        <translation>{n} 个工作日</translation>
    </message>
</context>
<context>
    <name>CasesPanel</name>
    <message>
        <source>Search number, applicant or case type</source>
        <extracomment>"show footage": the case's window and the instant of its last stage "show footage" of a record in the detail pane: kind ("warning", "ticket", "evaluation", "complaint") and its id, for ``app.review.footage_target`` a complaint's evidence dossier (证据包) asked for from the detail pane: the complaint's id the case shown in the detail pane</extracomment>
        <translation>搜索办件编号、申请人或事项</translation>
    </message>
    <message>
        <source>Open cases</source>
        <translation>在办件</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>超期</translation>
    </message>
    <message>
        <source>Suspended</source>
        <translation>已挂起</translation>
    </message>
    <message>
        <source>Completed</source>
        <translation>已办结</translation>
    </message>
    <message>
        <source>Ended (any way)</source>
        <translation>已结束（全部）</translation>
    </message>
    <message>
        <source>All cases</source>
        <translation>全部办件</translation>
    </message>
    <message>
        <source>Any warning state</source>
        <translation>全部预警状态</translation>
    </message>
    <message>
        <source>With a warning</source>
        <translation>有预警</translation>
    </message>
    <message>
        <source>Yellow or red</source>
        <translation>黄牌或红牌</translation>
    </message>
    <message>
        <source>Red</source>
        <translation>红牌</translation>
    </message>
    <message>
        <source>Yellow</source>
        <translation>黄牌</translation>
    </message>
    <message>
        <source>Notice</source>
        <translation>预警</translation>
    </message>
    <message>
        <source>No warning</source>
        <translation>无预警</translation>
    </message>
    <message>
        <source>All departments</source>
        <translation>全部部门</translation>
    </message>
    <message>
        <source>Show the cases of every window</source>
        <translation>显示所有窗口的办件</translation>
    </message>
    <message>
        <source>Show footage</source>
        <translation>查看录像</translation>
    </message>
    <message>
        <source>Open the recorded footage of the case's window at its last stage</source>
        <translation>打开该办件所在窗口在最后环节时刻的录像</translation>
    </message>
    <message>
        <source>{n} cases</source>
        <translation>{n} 件</translation>
    </message>
    <message>
        <source>The cases could not be read; the log has the details</source>
        <translation>无法读取办件，详情见日志</translation>
    </message>
    <message>
        <source>Window {number} ✕</source>
        <translation>窗口 {number} ✕</translation>
    </message>
    <message>
        <source>Select a case to see its stages, warnings and history.</source>
        <translation>选择一个办件，查看其环节、预警和历史。</translation>
    </message>
</context>
<context>
    <name>DisposeDialog</name>
    <message>
        <source>Dispose of a warning</source>
        <translation>处置预警</translation>
    </message>
    <message>
        <source>Measure</source>
        <translation>处置方式</translation>
    </message>
    <message>
        <source>What was done, or what must be done (required)</source>
        <translation>已采取或要求采取的措施（必填）</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>处置意见</translation>
    </message>
    <message>
        <source>Dispose</source>
        <translation>处置</translation>
    </message>
</context>
<context>
    <name>DossierDialog</name>
    <message>
        <source>Dossier of complaint %1</source>
        <translation>投诉 %1 的证据包</translation>
    </message>
    <message>
        <source>Reading the complaint…</source>
        <translation>正在读取投诉…</translation>
    </message>
    <message>
        <source>The complaint does not say when it is about: choose the span.</source>
        <translation>该投诉未注明事发时间：请选择时段。</translation>
    </message>
    <message>
        <source>No camera of the complaint's window or hall is known.</source>
        <translation>未找到该投诉所在窗口或大厅的摄像机。</translation>
    </message>
</context>
<context>
    <name>Evidence</name>
    <message>
        <source>an evidence hold needs a reason</source>
        <translation>证据保全需要填写原因</translation>
    </message>
    <message>
        <source>choose a camera or a window to hold</source>
        <translation>请选择要保全的摄像机或窗口</translation>
    </message>
    <message>
        <source>the span's end must come after its start</source>
        <translation>时段的结束必须晚于开始</translation>
    </message>
    <message>
        <source>this hold does not exist (it may have been released already)</source>
        <translation>该保全不存在（可能已被解除）</translation>
    </message>
    <message>
        <source>choose a camera to bookmark</source>
        <translation>请选择要加书签的摄像机</translation>
    </message>
    <message>
        <source>Release the evidence hold</source>
        <translation>解除证据保全</translation>
    </message>
    <message>
        <source>Release this evidence hold?</source>
        <translation>确定解除此证据保全吗？</translation>
    </message>
    <message>
        <source>Once released, the footage it covers may be pruned by retention. The release is audited.</source>
        <translation>解除后，所涵盖的录像可能被存储策略清理。解除操作将记入审计日志。</translation>
    </message>
    <message>
        <source>Release</source>
        <translation>解除</translation>
    </message>
    <message>
        <source>The hold was released.</source>
        <translation>保全已解除。</translation>
    </message>
    <message>
        <source>Not released: %1</source>
        <translation>未能解除：%1</translation>
    </message>
</context>
<context>
    <name>Export</name>
    <message>
        <source>checking the recorded footage</source>
        <translation>正在校验录像</translation>
    </message>
    <message>
        <source>copying the footage</source>
        <translation>正在复制录像</translation>
    </message>
    <message>
        <source>hashing the exported video</source>
        <translation>正在计算导出视频的哈希值</translation>
    </message>
    <message>
        <source>writing the records</source>
        <translation>正在写入业务记录</translation>
    </message>
    <message>
        <source>signing the manifest</source>
        <translation>正在签名清单</translation>
    </message>
    <message>
        <source>looking up the footage</source>
        <translation>正在查找录像</translation>
    </message>
    <message>
        <source>done</source>
        <translation>完成</translation>
    </message>
    <message>
        <source>exporting</source>
        <translation>正在导出</translation>
    </message>
    <message>
        <source>camera %1 of %2: %3</source>
        <translation>摄像机 %1/%2：%3</translation>
    </message>
    <message>
        <source>Cancelled; nothing was left behind.</source>
        <translation>已取消，未留下任何文件。</translation>
    </message>
    <message>
        <source>There is no recorded footage of the chosen cameras in this span.</source>
        <translation>所选摄像机在该时段内没有录像。</translation>
    </message>
    <message>
        <source>Refused: a recorded segment is missing or differs from what was recorded (it is now marked so; details in the log).</source>
        <translation>已拒绝：有录像片段缺失或与录制时不一致（已作标记，详见日志）。</translation>
    </message>
    <message>
        <source>The complaint does not say when it is about: choose the span.</source>
        <translation>该投诉未注明事发时间：请选择时段。</translation>
    </message>
    <message>
        <source>The complaint is not in this terminal's data.</source>
        <translation>本终端数据中没有该投诉。</translation>
    </message>
    <message>
        <source>The folder is not empty: evidence goes into a folder of its own.</source>
        <translation>文件夹不为空：证据须单独存放在一个文件夹中。</translation>
    </message>
    <message>
        <source>A file of that name exists: choose another folder.</source>
        <translation>已存在同名文件：请选择其他文件夹。</translation>
    </message>
    <message>
        <source>No camera of the complaint's window or hall is known.</source>
        <translation>未找到该投诉所在窗口或大厅的摄像机。</translation>
    </message>
    <message>
        <source>The export failed; the log has the details.</source>
        <translation>导出失败，详见日志。</translation>
    </message>
    <message>
        <source>unchanged</source>
        <translation>未改动</translation>
    </message>
    <message>
        <source>missing</source>
        <translation>缺失</translation>
    </message>
    <message>
        <source>changed</source>
        <translation>已被改动</translation>
    </message>
    <message>
        <source>not a file of the folder (a link or a folder)</source>
        <translation>不是该文件夹中的文件（链接或文件夹）</translation>
    </message>
    <message>
        <source>not listed in the manifest (added later)</source>
        <translation>清单中未列出（事后添加）</translation>
    </message>
    <message>
        <source>unreadable, or changed after it was signed</source>
        <translation>无法读取，或签名后被改动</translation>
    </message>
    <message>
        <source>Verified: every file is unchanged since it was exported and signed.</source>
        <translation>校验通过：所有文件自导出签名后均未改动。</translation>
    </message>
    <message>
        <source>Verification FAILED: %1 problem(s) — the evidence was changed or is incomplete.</source>
        <translation>校验未通过：%1 处问题——证据已被改动或不完整。</translation>
    </message>
    <message>
        <source>Dossier of complaint %1</source>
        <translation>投诉 %1 的证据包</translation>
    </message>
    <message>
        <source>Cameras: %1</source>
        <translation>摄像机：%1</translation>
    </message>
    <message>
        <source>Span: %1 – %2 (%3)</source>
        <translation>时段：%1 – %2（%3）</translation>
    </message>
    <message>
        <source>Exported by %1 at %2 on terminal %3</source>
        <translation>导出人 %1，时间 %2，终端 %3</translation>
    </message>
    <message>
        <source>Reason: %1</source>
        <translation>原因：%1</translation>
    </message>
    <message>
        <source>Signed with key %1</source>
        <translation>签名密钥 %1</translation>
    </message>
</context>
<context>
    <name>ExportDialog</name>
    <message>
        <source>Export evidence</source>
        <translation>导出证据</translation>
    </message>
    <message>
        <source>Why the footage is exported (required; it goes into the manifest)</source>
        <translation>导出录像的原因（必填，将写入清单）</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <source>From</source>
        <translation>开始</translation>
    </message>
    <message>
        <source>To</source>
        <translation>结束</translation>
    </message>
    <message>
        <source>Cameras</source>
        <translation>摄像机</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <source>New folder</source>
        <translation>新文件夹</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>Where to put the evidence folder</source>
        <translation>选择证据文件夹的存放位置</translation>
    </message>
    <message>
        <source>The end must come after the start.</source>
        <translation>结束时间必须晚于开始时间。</translation>
    </message>
    <message>
        <source>Check at least one camera.</source>
        <translation>请至少勾选一台摄像机。</translation>
    </message>
    <message>
        <source>A reason is required.</source>
        <translation>必须填写原因。</translation>
    </message>
    <message>
        <source>Choose a new folder for the evidence.</source>
        <translation>请为证据选择一个新文件夹。</translation>
    </message>
    <message>
        <source>Exporting…</source>
        <translation>正在导出…</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <source>Exported %1 file(s) into %2.</source>
        <translation>已导出 %1 个文件到 %2。</translation>
    </message>
    <message>
        <source>No footage of: %1</source>
        <translation>以下摄像机无录像：%1</translation>
    </message>
    <message>
        <source>Done.</source>
        <translation>完成。</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
</context>
<context>
    <name>HoldDialog</name>
    <message>
        <source>Evidence hold</source>
        <translation>证据保全</translation>
    </message>
    <message>
        <source>Why the footage must be kept (required)</source>
        <translation>保全录像的原因（必填）</translation>
    </message>
    <message>
        <source>Footage of</source>
        <translation>录像来源</translation>
    </message>
    <message>
        <source>From</source>
        <translation>开始</translation>
    </message>
    <message>
        <source>To</source>
        <translation>结束</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <source>Hold</source>
        <translation>保全</translation>
    </message>
    <message>
        <source>Held footage is never pruned until the hold is released. The hold is audited.</source>
        <translation>保全期间录像不会被清理，直至解除保全。保全操作将记入审计日志。</translation>
    </message>
    <message>
        <source>The end must come after the start.</source>
        <translation>结束时间必须晚于开始时间。</translation>
    </message>
    <message>
        <source>A reason is required.</source>
        <translation>必须填写原因。</translation>
    </message>
    <message>
        <source>Holding…</source>
        <translation>正在保全…</translation>
    </message>
    <message>
        <source>Not held: %1</source>
        <translation>未能保全：%1</translation>
    </message>
</context>
<context>
    <name>LeaderWindow</name>
    <message>
        <source>&amp;View</source>
        <extracomment>a new set of figures is on screen</extracomment>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>Overview</source>
        <translation>总览</translation>
    </message>
    <message>
        <source>Ranking</source>
        <translation>排名</translation>
    </message>
    <message>
        <source>Trends</source>
        <translation>趋势</translation>
    </message>
    <message>
        <source>Red cards and terminals</source>
        <translation>红牌与终端</translation>
    </message>
    <message>
        <source>Video wall</source>
        <translation>视频墙</translation>
    </message>
    <message>
        <source>Jurisdiction</source>
        <translation>辖区</translation>
    </message>
    <message>
        <source>Red</source>
        <translation>红牌</translation>
    </message>
    <message>
        <source>Yellow</source>
        <translation>黄牌</translation>
    </message>
    <message>
        <source>Open cases</source>
        <translation>在办件</translation>
    </message>
    <message>
        <source>Red cards (undisposed)</source>
        <translation>红牌（未处置）</translation>
    </message>
    <message>
        <source>Yellow cards (undisposed)</source>
        <translation>黄牌（未处置）</translation>
    </message>
    <message>
        <source>On-time rate (this month)</source>
        <translation>按时办结率（本月）</translation>
    </message>
    <message>
        <source>Satisfaction (this month)</source>
        <translation>满意率（本月）</translation>
    </message>
    <message>
        <source>Tickets waiting</source>
        <translation>排队等候</translation>
    </message>
    <message>
        <source>Longest wait</source>
        <translation>最长等候</translation>
    </message>
    <message>
        <source>Unit</source>
        <translation>单位</translation>
    </message>
    <message>
        <source>On time</source>
        <translation>按时率</translation>
    </message>
    <message>
        <source>Satisfaction</source>
        <translation>满意率</translation>
    </message>
    <message>
        <source>Waiting</source>
        <translation>等候</translation>
    </message>
    <message>
        <source>#</source>
        <translation>名次</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Score</source>
        <translation>得分</translation>
    </message>
    <message>
        <source>Halls, this month</source>
        <translation>大厅排名（本月）</translation>
    </message>
    <message>
        <source>Departments, this month</source>
        <translation>部门排名（本月）</translation>
    </message>
    <message>
        <source>By day</source>
        <translation>按日</translation>
    </message>
    <message>
        <source>By week</source>
        <translation>按周</translation>
    </message>
    <message>
        <source>By month</source>
        <translation>按月</translation>
    </message>
    <message>
        <source>Trend</source>
        <translation>趋势</translation>
    </message>
    <message>
        <source>Where</source>
        <translation>位置</translation>
    </message>
    <message>
        <source>Warning</source>
        <translation>预警</translation>
    </message>
    <message>
        <source>Red since</source>
        <translation>亮红牌时间</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Hall</source>
        <translation>大厅</translation>
    </message>
    <message>
        <source>Window</source>
        <translation>窗口</translation>
    </message>
    <message>
        <source>Who did what, and how</source>
        <translation>处置情况（何人、何时、如何）</translation>
    </message>
    <message>
        <source>Terminal</source>
        <translation>终端</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>角色</translation>
    </message>
    <message>
        <source>Video relay</source>
        <translation>视频转发</translation>
    </message>
    <message>
        <source>Last heard</source>
        <translation>最近联系</translation>
    </message>
    <message>
        <source>Online</source>
        <translation>在线状态</translation>
    </message>
    <message>
        <source>Full screen</source>
        <translation>全屏</translation>
    </message>
    <message>
        <source>Page tour</source>
        <translation>页面轮播</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>Red cards in force</source>
        <translation>现有红牌</translation>
    </message>
    <message>
        <source>Terminals</source>
        <translation>终端</translation>
    </message>
    <message>
        <source>HallWatch — Leader dashboard</source>
        <translation>HallWatch — 领导大屏</translation>
    </message>
    <message>
        <source>demo clock: %1</source>
        <translation>演示时钟：%1</translation>
    </message>
    <message>
        <source>Tour: every %1 s (P stops)</source>
        <translation>轮播中：每 %1 秒（按 P 停止）</translation>
    </message>
    <message>
        <source>Tour stopped (P starts)</source>
        <translation>轮播已停止（按 P 开始）</translation>
    </message>
    <message>
        <source>No server configured</source>
        <translation>未配置服务器</translation>
    </message>
    <message>
        <source>No server is configured ([server] url and token): the figures are what this terminal's store holds.</source>
        <translation>未配置监察服务器（[server] url 与 token）：显示的是本终端已有的数据。</translation>
    </message>
    <message>
        <source>The supervision server refused this terminal's token: ask the administrator for a leader token.</source>
        <translation>监察服务器拒绝了本终端的令牌：请向管理员申请领导端令牌。</translation>
    </message>
    <message>
        <source>Token refused</source>
        <translation>令牌被拒绝</translation>
    </message>
    <message>
        <source>cannot reach the server</source>
        <translation>无法连接服务器</translation>
    </message>
    <message>
        <source>The supervision server cannot be reached (%1) for %2. The figures shown were synced %3; this screen reconnects by itself.</source>
        <translation>无法连接监察服务器（%1），已持续 %2。当前数据同步于 %3；本屏会自动重连。</translation>
    </message>
    <message>
        <source>Server unreachable</source>
        <translation>服务器不可达</translation>
    </message>
    <message>
        <source>Connecting to the server…</source>
        <translation>正在连接服务器…</translation>
    </message>
    <message>
        <source>Server connected · synced %1</source>
        <translation>服务器已连接 · 同步于 %1</translation>
    </message>
    <message>
        <source>The figures could not be computed; the log has the details.</source>
        <translation>数据无法计算，详见日志。</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 秒</translation>
    </message>
    <message>
        <source>%1 min</source>
        <translation>%1 分钟</translation>
    </message>
    <message>
        <source>%1 h</source>
        <translation>%1 小时</translation>
    </message>
    <message>
        <source>%1 ago</source>
        <translation>%1前</translation>
    </message>
    <message>
        <source>(nothing synced yet)</source>
        <translation>（尚未同步）</translation>
    </message>
    <message>
        <source>%1 — electronic supervision</source>
        <translation>%1 — 电子监察</translation>
    </message>
    <message>
        <source>%1 (%2): %3</source>
        <translation>%1（%2）：%3</translation>
    </message>
    <message>
        <source>province</source>
        <translation>省</translation>
    </message>
    <message>
        <source>city</source>
        <translation>市</translation>
    </message>
    <message>
        <source>county</source>
        <translation>县（区）</translation>
    </message>
    <message>
        <source>township</source>
        <translation>乡镇（街道）</translation>
    </message>
    <message>
        <source>hall</source>
        <translation>政务大厅</translation>
    </message>
    <message>
        <source>%1 h %2 min</source>
        <translation>%1 小时 %2 分</translation>
    </message>
    <message>
        <source>%1 · as of %2</source>
        <translation>%1 · 截至 %2</translation>
    </message>
    <message>
        <source>in %1 windows</source>
        <translation>共 %1 个窗口</translation>
    </message>
    <message>
        <source>%1 cases completed</source>
        <translation>办结 %1 件</translation>
    </message>
    <message>
        <source>%1 evaluations</source>
        <translation>评价 %1 次</translation>
    </message>
    <message>
        <source>tickets in the queues now</source>
        <translation>当前排队人数</translation>
    </message>
    <message>
        <source>the longest a ticket has waited</source>
        <translation>当前等候最久</translation>
    </message>
    <message>
        <source>Units under %1</source>
        <translation>%1 下属单位</translation>
    </message>
    <message>
        <source>%1 has no units under it</source>
        <translation>%1 无下属单位</translation>
    </message>
    <message>
        <source>On-time rate</source>
        <translation>按时办结率</translation>
    </message>
    <message>
        <source>%1: on-time rate and satisfaction (%)</source>
        <translation>%1：按时办结率与满意率（%）</translation>
    </message>
    <message>
        <source>On-time rate and satisfaction (%)</source>
        <translation>按时办结率与满意率（%）</translation>
    </message>
    <message>
        <source>Cards raised</source>
        <translation>亮牌数</translation>
    </message>
    <message>
        <source>Cases completed</source>
        <translation>办结件数</translation>
    </message>
    <message>
        <source>%1-%2</source>
        <translation>%1年%2月</translation>
    </message>
    <message>
        <source>%1 %2: %3</source>
        <translation>%1 %2：%3</translation>
    </message>
    <message>
        <source>(unnamed)</source>
        <translation>（未署名）</translation>
    </message>
    <message>
        <source> — “%1”</source>
        <translation> — “%1”</translation>
    </message>
    <message>
        <source>nobody yet</source>
        <translation>尚无人处理</translation>
    </message>
    <message>
        <source>Red cards in force in %1: %2, %3 not disposed yet</source>
        <translation>%1 现有红牌 %2 张，其中 %3 张尚未处置</translation>
    </message>
    <message>
        <source>Terminals: %1 of %2 online</source>
        <translation>终端：%2 台中 %1 台在线</translation>
    </message>
    <message>
        <source>Supervision workstation</source>
        <translation>监察工作站</translation>
    </message>
    <message>
        <source>Leader terminal</source>
        <translation>领导终端</translation>
    </message>
    <message>
        <source>relays video</source>
        <translation>转发视频</translation>
    </message>
    <message>
        <source>online</source>
        <translation>在线</translation>
    </message>
    <message>
        <source>not heard from</source>
        <translation>失联</translation>
    </message>
</context>
<context>
    <name>LightsBoard</name>
    <message>
        <source>Departments</source>
        <translation>部门</translation>
    </message>
    <message>
        <source>No windows yet</source>
        <translation>暂无窗口</translation>
    </message>
    <message>
        <source>A red card is not acknowledged yet</source>
        <extracomment>the clicked window's id, or None when the selection was cleared</extracomment>
        <translation>有红牌尚未签收</translation>
    </message>
</context>
<context>
    <name>Menus</name>
    <message>
        <source>&amp;Theme</source>
        <translation>主题(&amp;T)</translation>
    </message>
    <message>
        <source>Dark (control room)</source>
        <translation>深色（监控室）</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
</context>
<context>
    <name>OperatorWindow</name>
    <message>
        <source>Live</source>
        <extracomment>the panels show the warning monitor's first snapshot: start-up is over (the runner freezes the start-up heap then: desktop.application.freeze_startup_heap)</extracomment>
        <translation>实时</translation>
    </message>
    <message>
        <source>Review footage</source>
        <translation>录像回放</translation>
    </message>
    <message>
        <source>Cameras</source>
        <translation>摄像机</translation>
    </message>
    <message>
        <source>Warning lights</source>
        <translation>预警灯</translation>
    </message>
    <message>
        <source>Warnings</source>
        <translation>预警</translation>
    </message>
    <message>
        <source>Queue</source>
        <translation>排队</translation>
    </message>
    <message>
        <source>Cases</source>
        <translation>办件</translation>
    </message>
    <message>
        <source>Performance</source>
        <translation>绩效</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>Grid &amp;layout</source>
        <translation>画面布局(&amp;L)</translation>
    </message>
    <message>
        <source>1 camera</source>
        <translation>单画面</translation>
    </message>
    <message>
        <source>&amp;Named layouts</source>
        <translation>已保存的布局(&amp;N)</translation>
    </message>
    <message>
        <source>&amp;Save layout as…</source>
        <translation>保存布局为(&amp;S)…</translation>
    </message>
    <message>
        <source>&amp;Tour named layouts</source>
        <translation>轮巡已保存的布局(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Review footage</source>
        <translation>录像回放(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Full screen</source>
        <translation>全屏(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Detach grid to its own window</source>
        <translation>视频墙独立窗口(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;Keyboard shortcuts</source>
        <translation>快捷键(&amp;K)</translation>
    </message>
    <message>
        <source>&amp;About HallWatch</source>
        <translation>关于 HallWatch(&amp;A)</translation>
    </message>
    <message>
        <source>HallWatch — Electronic Supervision</source>
        <translation>HallWatch 政务大厅电子监察</translation>
    </message>
    <message>
        <source>demo clock: %1</source>
        <translation>演示时钟：%1</translation>
    </message>
    <message>
        <source>No camera</source>
        <translation>没有摄像机</translation>
    </message>
    <message>
        <source>No camera watches this window, so there is no footage to show.</source>
        <translation>没有摄像机对着这个窗口，无录像可看。</translation>
    </message>
    <message>
        <source>This record does not say when it happened: pick the instant on the timeline.</source>
        <translation>该记录未注明发生时间：请在时间轴上选择时刻。</translation>
    </message>
    <message>
        <source>No footage</source>
        <translation>没有录像</translation>
    </message>
    <message>
        <source>The footage cannot be found: %1</source>
        <translation>找不到录像：%1</translation>
    </message>
    <message>
        <source>(none saved yet)</source>
        <translation>（尚未保存）</translation>
    </message>
    <message>
        <source>Save layout</source>
        <translation>保存布局</translation>
    </message>
    <message>
        <source>Name of this layout:</source>
        <translation>布局名称：</translation>
    </message>
    <message>
        <source>Tour</source>
        <translation>轮巡</translation>
    </message>
    <message>
        <source>Save at least two named layouts first (View → Save layout as…).</source>
        <translation>请先保存至少两个布局（视图 → 保存布局为…）。</translation>
    </message>
    <message>
        <source>HallWatch — cameras</source>
        <translation>HallWatch — 视频墙</translation>
    </message>
</context>
<context>
    <name>Panels</name>
    <message>
        <source>{n} min</source>
        <translation>{n} 分钟</translation>
    </message>
    <message>
        <source>{h} h {m:02d} min</source>
        <translation>{h} 小时 {m:02d} 分</translation>
    </message>
</context>
<context>
    <name>PerformancePanel</name>
    <message>
        <source>Today</source>
        <extracomment>a new result is shown</extracomment>
        <translation>今日</translation>
    </message>
    <message>
        <source>This week</source>
        <translation>本周</translation>
    </message>
    <message>
        <source>This month</source>
        <translation>本月</translation>
    </message>
    <message>
        <source>Custom period</source>
        <translation>自定义时段</translation>
    </message>
    <message>
        <source>Period</source>
        <translation>时段</translation>
    </message>
    <message>
        <source>On-time rate by day (%)</source>
        <translation>每日按时办结率（%）</translation>
    </message>
    <message>
        <source>Yellow and red cards by department</source>
        <translation>各部门黄牌、红牌</translation>
    </message>
    <message>
        <source>Satisfaction by department (%)</source>
        <translation>各部门满意率（%）</translation>
    </message>
    <message>
        <source>Departments</source>
        <translation>部门</translation>
    </message>
    <message>
        <source>Windows</source>
        <translation>窗口</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Score</source>
        <translation>得分</translation>
    </message>
    <message>
        <source>On time</source>
        <translation>按时率</translation>
    </message>
    <message>
        <source>Satisfaction</source>
        <translation>满意率</translation>
    </message>
    <message>
        <source>Yellow</source>
        <translation>黄牌</translation>
    </message>
    <message>
        <source>Red</source>
        <translation>红牌</translation>
    </message>
    <message>
        <source>Computing…</source>
        <translation>正在计算…</translation>
    </message>
    <message>
        <source>The figures could not be computed; the log has the details</source>
        <translation>无法计算绩效，详情见日志</translation>
    </message>
    <message>
        <source>{start} – {end}: {completed} completed, on time {on_time}; {evaluations} evaluations, satisfied {satisfaction} ({good} good, {bad} bad); {yellow} yellow and {red} red cards</source>
        <translation>{start} – {end}：办结 {completed} 件，按时率 {on_time}；评价 {evaluations} 次，满意率 {satisfaction}（好评 {good}，差评 {bad}）；黄牌 {yellow} 张，红牌 {red} 张</translation>
    </message>
</context>
<context>
    <name>QueueModel</name>
    <message>
        <source>Business type</source>
        <translation>业务类型</translation>
    </message>
    <message>
        <source>Department</source>
        <translation>部门</translation>
    </message>
    <message>
        <source>Window</source>
        <translation>窗口</translation>
    </message>
    <message>
        <source>Waiting</source>
        <translation>等候</translation>
    </message>
    <message>
        <source>Longest wait</source>
        <translation>最长等候</translation>
    </message>
    <message>
        <source>Average wait</source>
        <translation>平均等候</translation>
    </message>
    <message>
        <source>(no business type)</source>
        <translation>（未分业务类型）</translation>
    </message>
</context>
<context>
    <name>QueuePanel</name>
    <message>
        <source>Waiting</source>
        <translation>等候</translation>
    </message>
    <message>
        <source>Longest wait</source>
        <translation>最长等候</translation>
    </message>
    <message>
        <source>Average wait</source>
        <translation>平均等候</translation>
    </message>
    <message>
        <source>Issued today</source>
        <translation>今日取号</translation>
    </message>
    <message>
        <source>Missed today</source>
        <translation>今日过号</translation>
    </message>
    <message>
        <source>Transferred today</source>
        <translation>今日转办</translation>
    </message>
    <message>
        <source>, </source>
        <translation>，</translation>
    </message>
    <message>
        <source>{window}: {ticket} ({status})</source>
        <translation>{window}：{ticket}（{status}）</translation>
    </message>
    <message>
        <source>Being served: {items}</source>
        <translation>正在办理：{items}</translation>
    </message>
    <message>
        <source> and {n} more</source>
        <translation> 等另外 {n} 个</translation>
    </message>
    <message>
        <source>Nobody is being served right now</source>
        <translation>目前无人正在办理</translation>
    </message>
    <message>
        <source>Whole hall</source>
        <translation>全大厅</translation>
    </message>
    <message>
        <source>Window {number}</source>
        <translation>窗口 {number}</translation>
    </message>
    <message>
        <source>Window {number} · {department}</source>
        <translation>窗口 {number} · {department}</translation>
    </message>
</context>
<context>
    <name>Review</name>
    <message>
        <source>No footage of this camera</source>
        <translation>此摄像机没有录像</translation>
    </message>
    <message>
        <source>No older footage (never recorded, or removed by retention)</source>
        <translation>没有更早的录像（未曾录制，或已按保留期删除）</translation>
    </message>
    <message>
        <source>No more footage yet: the camera is still being recorded</source>
        <translation>暂无更多录像：摄像机仍在录制中</translation>
    </message>
    <message>
        <source>No later footage</source>
        <translation>没有更晚的录像</translation>
    </message>
</context>
<context>
    <name>ReviewScreens</name>
    <message>
        <source>Pick a camera in the tree, or drag one here</source>
        <translation>在左侧树中选择摄像机，或将其拖到这里</translation>
    </message>
    <message>
        <source>Loading footage…</source>
        <translation>正在加载录像…</translation>
    </message>
</context>
<context>
    <name>ReviewView</name>
    <message>
        <source>1</source>
        <translation>1</translation>
    </message>
    <message>
        <source>One camera</source>
        <translation>单画面</translation>
    </message>
    <message>
        <source>Four cameras in sync</source>
        <translation>四画面同步</translation>
    </message>
    <message>
        <source>Previous marker (Ctrl+←)</source>
        <translation>上一个标记（Ctrl+←）</translation>
    </message>
    <message>
        <source>One frame back (←)</source>
        <translation>后退一帧（←）</translation>
    </message>
    <message>
        <source>Play / pause (Space)</source>
        <translation>播放 / 暂停（空格）</translation>
    </message>
    <message>
        <source>One frame forward (→)</source>
        <translation>前进一帧（→）</translation>
    </message>
    <message>
        <source>Next marker (Ctrl+→)</source>
        <translation>下一个标记（Ctrl+→）</translation>
    </message>
    <message>
        <source>Playback speed ([ and ])</source>
        <translation>播放速度（[ 和 ]）</translation>
    </message>
    <message>
        <source>Day…</source>
        <translation>日期…</translation>
    </message>
    <message>
        <source>Pick a day with footage</source>
        <translation>选择有录像的日期</translation>
    </message>
    <message>
        <source>Bookmark…</source>
        <translation>书签…</translation>
    </message>
    <message>
        <source>Bookmark this instant with a note (B)</source>
        <translation>在此时刻添加带备注的书签（B）</translation>
    </message>
    <message>
        <source>Hold…</source>
        <translation>证据保全…</translation>
    </message>
    <message>
        <source>Keep the selected span as evidence (H)</source>
        <translation>将所选时段保全为证据（H）</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>Export the selected span as evidence (E)</source>
        <translation>将所选时段导出为证据（E）</translation>
    </message>
    <message>
        <source>Verify folder…</source>
        <translation>校验文件夹…</translation>
    </message>
    <message>
        <source>Check an evidence folder</source>
        <translation>校验证据文件夹</translation>
    </message>
    <message>
        <source>Back to live</source>
        <translation>返回实时</translation>
    </message>
    <message>
        <source>The live picture of this camera (L)</source>
        <translation>此摄像机的实时画面（L）</translation>
    </message>
    <message>
        <source>Play / pause</source>
        <translation>播放 / 暂停</translation>
    </message>
    <message>
        <source>One frame back / forward</source>
        <translation>后退 / 前进一帧</translation>
    </message>
    <message>
        <source>10 s back / forward</source>
        <translation>后退 / 前进 10 秒</translation>
    </message>
    <message>
        <source>Previous / next marker</source>
        <translation>上一个 / 下一个标记</translation>
    </message>
    <message>
        <source>Slower / faster</source>
        <translation>减速 / 加速</translation>
    </message>
    <message>
        <source>Mark in / out</source>
        <translation>设置起点 / 终点</translation>
    </message>
    <message>
        <source>Bookmark</source>
        <translation>书签</translation>
    </message>
    <message>
        <source>Evidence hold</source>
        <translation>证据保全</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>Zoom the timeline</source>
        <translation>缩放时间轴</translation>
    </message>
    <message>
        <source>wheel, + / −</source>
        <translation>滚轮、+ / −</translation>
    </message>
    <message>
        <source>%1×: keyframes only — decoding every frame at this speed is more than this machine or the playback budget allows</source>
        <translation>%1×：仅显示关键帧——以此速度逐帧解码超出本机能力或回放预算</translation>
    </message>
    <message>
        <source>The end of the recorded footage: more plays as it is recorded</source>
        <translation>已到录像末尾：新录制的内容将继续播放</translation>
    </message>
    <message>
        <source>The timeline could not be read: %1</source>
        <translation>无法读取时间轴：%1</translation>
    </message>
    <message>
        <source>No footage of this camera on that day</source>
        <translation>此摄像机当天没有录像</translation>
    </message>
    <message>
        <source>Go here</source>
        <translation>跳到这里</translation>
    </message>
    <message>
        <source>Release the evidence hold “%1”…</source>
        <translation>解除证据保全“%1”…</translation>
    </message>
    <message>
        <source>Export the complaint's evidence dossier…</source>
        <translation>导出该投诉的证据包…</translation>
    </message>
</context>
<context>
    <name>ReviewWindow</name>
    <message>
        <source>HallWatch — Footage review</source>
        <translation>HallWatch — 录像回放</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Export…</source>
        <translation>导出(&amp;E)…</translation>
    </message>
    <message>
        <source>&amp;Verify folder…</source>
        <translation>校验文件夹(&amp;V)…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;One camera</source>
        <translation>单画面(&amp;O)</translation>
    </message>
    <message>
        <source>&amp;Four cameras in sync</source>
        <translation>四画面同步(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;Keyboard shortcuts</source>
        <translation>快捷键(&amp;K)</translation>
    </message>
    <message>
        <source>&amp;About HallWatch</source>
        <translation>关于 HallWatch(&amp;A)</translation>
    </message>
</context>
<context>
    <name>SeatEditor</name>
    <message>
        <source>Delete seat</source>
        <translation>删除座位</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Loading the seats…</source>
        <translation>正在读取座位…</translation>
    </message>
    <message>
        <source>Window:</source>
        <translation>窗口：</translation>
    </message>
    <message>
        <source>Cannot read the seats: {error}</source>
        <translation>无法读取座位：{error}</translation>
    </message>
    <message>
        <source>The config file sets these seats ([[cameras]] seats): shown only</source>
        <translation>这些座位由配置文件设定（[[cameras]] seats）：仅供查看</translation>
    </message>
    <message>
        <source>Drag on the picture to draw the seat of the window picked</source>
        <translation>在画面上拖动，为所选窗口画出座位</translation>
    </message>
    <message>
        <source>Drag on the picture to draw the seat of the window picked; drag a seat to move it, its corners to resize it; arrow keys nudge it (Shift: ten pixels)</source>
        <translation>在画面上拖动，为所选窗口画出座位；拖动座位可移动，拖动四角可调整大小；方向键微调（按住 Shift 每次十个像素）</translation>
    </message>
    <message>
        <source>Not saved: {error}</source>
        <translation>未保存：{error}</translation>
    </message>
    <message>
        <source>Saving…</source>
        <translation>正在保存…</translation>
    </message>
    <message>
        <source>Pick the window first</source>
        <translation>请先选择窗口</translation>
    </message>
</context>
<context>
    <name>ShortcutsDialog</name>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>快捷键</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>操作</translation>
    </message>
    <message>
        <source>Keys</source>
        <translation>按键</translation>
    </message>
</context>
<context>
    <name>Startup</name>
    <message>
        <source>Starting the demo: server, hall cameras, the relay and the leader terminal…</source>
        <translation>正在启动演示：服务器、大厅摄像机、视频转发与领导终端…</translation>
    </message>
    <message>
        <source>Starting sync…</source>
        <translation>正在启动同步…</translation>
    </message>
    <message>
        <source>HallWatch could not start: %1</source>
        <translation>HallWatch 无法启动：%1</translation>
    </message>
    <message>
        <source>Starting the demo hall: server, cameras and recording…</source>
        <translation>正在启动演示大厅：服务器、摄像机和录像…</translation>
    </message>
    <message>
        <source>Starting cameras, recording and sync…</source>
        <translation>正在启动摄像机、录像和同步…</translation>
    </message>
</context>
<context>
    <name>Status</name>
    <message>
        <source>in step</source>
        <translation>已同步</translation>
    </message>
    <message>
        <source>syncing</source>
        <translation>正在同步</translation>
    </message>
    <message>
        <source>offline</source>
        <translation>离线</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>token refused</source>
        <translation>令牌被拒绝</translation>
    </message>
    <message>
        <source>cannot reach the server</source>
        <translation>无法连接服务器</translation>
    </message>
    <message>
        <source>the server's certificate is not trusted</source>
        <translation>服务器证书不受信任</translation>
    </message>
    <message>
        <source>the server refused this terminal's token: ask the administrator for a new one</source>
        <translation>服务器拒绝了本终端的令牌：请向管理员申请新令牌</translation>
    </message>
    <message>
        <source>the server had an error; retrying</source>
        <translation>服务器出错，正在重试</translation>
    </message>
    <message>
        <source>the server refused a request as too large</source>
        <translation>服务器以过大为由拒绝了请求</translation>
    </message>
    <message>
        <source>the server's answer was not understood</source>
        <translation>无法理解服务器的应答</translation>
    </message>
    <message>
        <source>the server refused a request</source>
        <translation>服务器拒绝了请求</translation>
    </message>
    <message>
        <source>an internal error in this terminal (see the log)</source>
        <translation>本终端内部错误（详见日志）</translation>
    </message>
    <message>
        <source>waiting for a keyframe</source>
        <translation>等待关键帧</translation>
    </message>
    <message>
        <source>connecting</source>
        <translation>正在连接</translation>
    </message>
    <message>
        <source>live</source>
        <translation>实时</translation>
    </message>
    <message>
        <source>retrying</source>
        <translation>重试中</translation>
    </message>
    <message>
        <source>refused</source>
        <translation>被拒绝</translation>
    </message>
    <message>
        <source>Relay viewers: %1</source>
        <translation>转发：%1 个观看</translation>
    </message>
    <message>
        <source>Leaders open %1</source>
        <translation>领导端从 %1 打开</translation>
    </message>
    <message>
        <source>Relay stopped</source>
        <translation>转发已停止</translation>
    </message>
    <message>
        <source>sub-stream</source>
        <translation>子码流</translation>
    </message>
    <message>
        <source>%1: %2 watching, %3 dropped for not reading</source>
        <translation>%1：%2 个观看，%3 个因不接收被断开</translation>
    </message>
    <message>
        <source>pushed %1/%2 live</source>
        <translation>推流 %1/%2 正常</translation>
    </message>
    <message>
        <source>Seats: %1 watched, %2 empty</source>
        <translation>座位：监看 %1 个，空岗 %2 个</translation>
    </message>
    <message>
        <source>Empty now: %1</source>
        <translation>当前空岗：%1</translation>
    </message>
    <message>
        <source>Not judged yet (the empty seat is still being learned): %1</source>
        <translation>尚未判断（仍在学习空座位的样子）：%1</translation>
    </message>
    <message>
        <source>Every watched seat is taken</source>
        <translation>监看的座位都有人在岗</translation>
    </message>
    <message>
        <source>Sync: no server configured</source>
        <translation>同步：未配置服务器</translation>
    </message>
    <message>
        <source>Sync: %1</source>
        <translation>同步：%1</translation>
    </message>
    <message>
        <source>last success %1</source>
        <translation>上次成功 %1</translation>
    </message>
    <message>
        <source>actions waiting: %1</source>
        <translation>待发送操作：%1</translation>
    </message>
    <message>
        <source>offline since %1</source>
        <translation>自 %1 起离线</translation>
    </message>
    <message>
        <source>Cameras %1/%2 live</source>
        <translation>摄像机 %1/%2 在线</translation>
    </message>
    <message>
        <source>Every camera is live</source>
        <translation>所有摄像机在线</translation>
    </message>
    <message>
        <source>, %1% disk free</source>
        <translation>，磁盘剩余 %1%</translation>
    </message>
    <message>
        <source>Recording %1/%2</source>
        <translation>录像 %1/%2</translation>
    </message>
    <message>
        <source>Recording stopped: the disk is full of held footage</source>
        <translation>录像已停止：磁盘已满，剩余录像均为保全证据</translation>
    </message>
    <message>
        <source>Clock off by %1 min</source>
        <translation>时钟偏差 %1 分钟</translation>
    </message>
    <message>
        <source>This computer's clock differs from the server's; have it corrected.</source>
        <translation>本机时钟与服务器不一致，请校正。</translation>
    </message>
    <message>
        <source>No holiday data for %1: Monday–Friday counted</source>
        <translation>%1 年无法定节假日数据：按周一至周五计算</translation>
    </message>
    <message>
        <source>Offline since %1: %2. Warnings are still judged here and actions are kept; they are sent when the server is back.</source>
        <translation>自 %1 起离线：%2。本机仍在判定预警，操作已保存，服务器恢复后自动发送。</translation>
    </message>
</context>
<context>
    <name>Timeline</name>
    <message>
        <source>Camera down: it could not be reached or sent no picture</source>
        <translation>摄像机离线：无法连接或没有画面</translation>
    </message>
    <message>
        <source>Disk full: recording stopped for lack of space</source>
        <translation>磁盘已满：因空间不足停止录像</translation>
    </message>
    <message>
        <source>Recorder fell behind: footage was dropped</source>
        <translation>录像跟不上：部分录像被丢弃</translation>
    </message>
    <message>
        <source>File missing: the recorded file is gone from the disk</source>
        <translation>文件丢失：录像文件已不在磁盘上</translation>
    </message>
    <message>
        <source>File corrupt: the recorded file cannot be read</source>
        <translation>文件损坏：录像文件无法读取</translation>
    </message>
    <message>
        <source>Deleted by the retention period</source>
        <translation>已超过保存期限被删除</translation>
    </message>
    <message>
        <source>Not recording</source>
        <translation>未录像</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 秒</translation>
    </message>
    <message>
        <source>%1 min %2 s</source>
        <translation>%1 分 %2 秒</translation>
    </message>
    <message>
        <source>%1 h %2 min</source>
        <translation>%1 小时 %2 分</translation>
    </message>
    <message>
        <source>%1 d %2 h</source>
        <translation>%1 天 %2 小时</translation>
    </message>
    <message>
        <source>since %1 (still going on)</source>
        <translation>自 %1 起（仍在持续）</translation>
    </message>
    <message>
        <source>%1 – %2 (%3)</source>
        <translation>%1 – %2（%3）</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1：%2</translation>
    </message>
    <message>
        <source>Bookmark</source>
        <translation>书签</translation>
    </message>
    <message>
        <source>Complaint</source>
        <translation>投诉</translation>
    </message>
    <message>
        <source>Bad review</source>
        <translation>差评</translation>
    </message>
    <message>
        <source>Evidence hold</source>
        <translation>证据保全</translation>
    </message>
    <message>
        <source>No camera chosen</source>
        <translation>未选择摄像机</translation>
    </message>
</context>
<context>
    <name>VerifyDialog</name>
    <message>
        <source>Verify an evidence folder</source>
        <translation>校验证据文件夹</translation>
    </message>
    <message>
        <source>Choose folder…</source>
        <translation>选择文件夹…</translation>
    </message>
    <message>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Choose an evidence folder</source>
        <translation>选择证据文件夹</translation>
    </message>
    <message>
        <source>Verifying…</source>
        <translation>正在校验…</translation>
    </message>
    <message>
        <source>The folder could not be verified; the log has the details.</source>
        <translation>无法校验该文件夹，详见日志。</translation>
    </message>
</context>
<context>
    <name>VideoWall</name>
    <message>
        <source>No token for the server: the relayed video cannot be asked for.</source>
        <translation>没有服务器令牌，无法获取转发视频。</translation>
    </message>
    <message>
        <source>Choose a hall in the tree to watch its cameras.</source>
        <translation>在左侧辖区树中选择大厅即可观看其摄像机画面。</translation>
    </message>
    <message>
        <source>%1: the relays could not be asked (details in the log); trying again.</source>
        <translation>%1：无法查询视频转发（详见日志），正在重试。</translation>
    </message>
    <message>
        <source>%1: asking the relays for its cameras…</source>
        <translation>%1：正在查询视频转发…</translation>
    </message>
    <message>
        <source>%1: %2 of %3 cameras relayed by %4.</source>
        <translation>%1：%3 路摄像机中 %2 路由 %4 转发。</translation>
    </message>
    <message>
        <source>, </source>
        <translation>，</translation>
    </message>
    <message>
        <source>Page %1 of %2 (%3 cameras a page, red windows first); the next comes every %4 s.</source>
        <translation>第 %1/%2 页（每页 %3 路，红牌窗口在前）；每 %4 秒翻页。</translation>
    </message>
    <message>
        <source>%1: no workstation in scope relays video yet; the wall looks again every %2 s.</source>
        <translation>%1：辖区内尚无工作站转发视频；每 %2 秒重新查找。</translation>
    </message>
    <message>
        <source>%1: no relay serves this hall's cameras.</source>
        <translation>%1：没有视频转发提供该大厅的摄像机。</translation>
    </message>
    <message>
        <source>Relay unreachable: %1 — retrying every %2 s.</source>
        <translation>视频转发不可达：%1 — 每 %2 秒自动重试。</translation>
    </message>
    <message>
        <source>Relay refused this terminal: %1 — ask the administrator.</source>
        <translation>视频转发拒绝了本终端：%1 — 请联系管理员。</translation>
    </message>
    <message>
        <source>No relayed video to show</source>
        <translation>暂无转发视频</translation>
    </message>
    <message>
        <source>HallWatch video wall</source>
        <translation>HallWatch 视频墙</translation>
    </message>
</context>
<context>
    <name>WarningsModel</name>
    <message>
        <source>Level</source>
        <translation>级别</translation>
    </message>
    <message>
        <source>Rule</source>
        <translation>规则</translation>
    </message>
    <message>
        <source>Subject</source>
        <translation>对象</translation>
    </message>
    <message>
        <source>Window</source>
        <translation>窗口</translation>
    </message>
    <message>
        <source>Department</source>
        <translation>部门</translation>
    </message>
    <message>
        <source>Since</source>
        <translation>发生时间</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Handled by</source>
        <translation>处理情况</translation>
    </message>
    <message>
        <source>Push</source>
        <translation>上报</translation>
    </message>
    <message>
        <source>Detail</source>
        <translation>详情</translation>
    </message>
    <message>
        <source>{measure} by {who} at {when}</source>
        <translation>{who} 于 {when} {measure}</translation>
    </message>
    <message>
        <source>Acknowledged by {who} at {when}</source>
        <translation>{who} 于 {when} 签收</translation>
    </message>
    <message>
        <source>Queued (tried {n}×)</source>
        <translation>待上报（已尝试 {n} 次）</translation>
    </message>
    <message>
        <source>Queued</source>
        <translation>待上报</translation>
    </message>
    <message>
        <source>Rejected: {reason}</source>
        <translation>被拒绝：{reason}</translation>
    </message>
    <message>
        <source>Applied</source>
        <translation>已生效</translation>
    </message>
    <message>
        <source>Waiting to be sent to the server; the last attempt failed.</source>
        <translation>等待发送到服务器；上次发送失败。</translation>
    </message>
    <message>
        <source>The server refused this terminal's action ({code}) at {when}.</source>
        <translation>服务器于 {when} 拒绝了本终端的操作（{code}）。</translation>
    </message>
</context>
<context>
    <name>WarningsPanel</name>
    <message>
        <source>All levels</source>
        <extracomment>an action ended: (warning key, ok, words) — words say what happened or why it failed "show footage" of the selected warning: its key (the window resolves the instant and cameras)</extracomment>
        <translation>全部级别</translation>
    </message>
    <message>
        <source>All states</source>
        <translation>全部状态</translation>
    </message>
    <message>
        <source>All departments</source>
        <translation>全部部门</translation>
    </message>
    <message>
        <source>All rules</source>
        <translation>全部规则</translation>
    </message>
    <message>
        <source>Show the warnings of every window</source>
        <translation>显示所有窗口的预警</translation>
    </message>
    <message>
        <source>Show footage</source>
        <translation>查看录像</translation>
    </message>
    <message>
        <source>The footage of the warning's window when it arose (Ctrl+F)</source>
        <translation>预警发生时该窗口的录像（Ctrl+F）</translation>
    </message>
    <message>
        <source>Acknowledge</source>
        <translation>签收</translation>
    </message>
    <message>
        <source>Acknowledge (签收) the selected warning (Ctrl+K)</source>
        <translation>签收所选预警（Ctrl+K）</translation>
    </message>
    <message>
        <source>Supervise (督办) with a note (Ctrl+D)</source>
        <translation>督办并填写意见（Ctrl+D）</translation>
    </message>
    <message>
        <source>Correct (纠错) with a note</source>
        <translation>纠错并填写意见</translation>
    </message>
    <message>
        <source>Explain (说明) with a note</source>
        <translation>说明并填写意见</translation>
    </message>
    <message>
        <source>Mute</source>
        <translation>静音</translation>
    </message>
    <message>
        <source>Silence the chime for new red cards</source>
        <translation>新红牌不再响铃</translation>
    </message>
    <message>
        <source>Window {number} ✕</source>
        <translation>窗口 {number} ✕</translation>
    </message>
    <message>
        <source>{shown} of {total}</source>
        <translation>{shown} / {total}</translation>
    </message>
    <message>
        <source>The staff seat when it became empty</source>
        <translation>座位变空时的画面</translation>
    </message>
    <message>
        <source>Acknowledging…</source>
        <translation>正在签收…</translation>
    </message>
    <message>
        <source>Disposing…</source>
        <translation>正在处置…</translation>
    </message>
    <message>
        <source>Acknowledged</source>
        <translation>已签收</translation>
    </message>
    <message>
        <source>Disposed</source>
        <translation>已处置</translation>
    </message>
    <message>
        <source>{done}: queued for the server</source>
        <translation>{done}，等待上报服务器</translation>
    </message>
</context>
<context>
    <name>Words</name>
    <message>
        <source>Notice</source>
        <translation>预警</translation>
    </message>
    <message>
        <source>Yellow card</source>
        <translation>黄牌</translation>
    </message>
    <message>
        <source>Red card</source>
        <translation>红牌</translation>
    </message>
    <message>
        <source>No warning</source>
        <translation>无预警</translation>
    </message>
    <message>
        <source>Not acknowledged</source>
        <translation>未签收</translation>
    </message>
    <message>
        <source>Acknowledged</source>
        <translation>已签收</translation>
    </message>
    <message>
        <source>Disposed</source>
        <translation>已处置</translation>
    </message>
    <message>
        <source>Cleared</source>
        <translation>已解除</translation>
    </message>
    <message>
        <source>Due soon</source>
        <translation>即将到期</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>超期</translation>
    </message>
    <message>
        <source>Stage late</source>
        <translation>环节超时</translation>
    </message>
    <message>
        <source>Fee mismatch</source>
        <translation>收费不符</translation>
    </message>
    <message>
        <source>Stage skipped</source>
        <translation>环节缺失</translation>
    </message>
    <message>
        <source>Suspended too long</source>
        <translation>挂起超时</translation>
    </message>
    <message>
        <source>Long wait</source>
        <translation>等候超时</translation>
    </message>
    <message>
        <source>Post left</source>
        <translation>脱岗</translation>
    </message>
    <message>
        <source>Disk full</source>
        <translation>磁盘已满</translation>
    </message>
    <message>
        <source>Supervise</source>
        <translation>督办</translation>
    </message>
    <message>
        <source>Correct</source>
        <translation>纠错</translation>
    </message>
    <message>
        <source>Explain</source>
        <translation>说明</translation>
    </message>
    <message>
        <source>Case</source>
        <translation>办件</translation>
    </message>
    <message>
        <source>Ticket</source>
        <translation>取号</translation>
    </message>
    <message>
        <source>Window</source>
        <translation>窗口</translation>
    </message>
    <message>
        <source>Submitted</source>
        <translation>已申请</translation>
    </message>
    <message>
        <source>Accepted</source>
        <translation>已受理</translation>
    </message>
    <message>
        <source>In progress</source>
        <translation>办理中</translation>
    </message>
    <message>
        <source>Suspended</source>
        <translation>已挂起</translation>
    </message>
    <message>
        <source>Completed</source>
        <translation>已办结</translation>
    </message>
    <message>
        <source>Rejected</source>
        <translation>不予受理</translation>
    </message>
    <message>
        <source>Withdrawn</source>
        <translation>已撤回</translation>
    </message>
    <message>
        <source>Handled</source>
        <translation>已办理</translation>
    </message>
    <message>
        <source>Reviewed</source>
        <translation>已审核</translation>
    </message>
    <message>
        <source>Decided</source>
        <translation>已决定</translation>
    </message>
    <message>
        <source>Waiting</source>
        <translation>等候</translation>
    </message>
    <message>
        <source>Called</source>
        <translation>已叫号</translation>
    </message>
    <message>
        <source>Serving</source>
        <translation>办理中</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>已办完</translation>
    </message>
    <message>
        <source>Missed</source>
        <translation>过号</translation>
    </message>
    <message>
        <source>Transferred</source>
        <translation>已转办</translation>
    </message>
    <message>
        <source>charged {charged}, standard fee {fee}</source>
        <translation>实收 {charged}，标准 {fee}</translation>
    </message>
    <message>
        <source>late: {stages}</source>
        <translation>超时环节：{stages}</translation>
    </message>
    <message>
        <source>{minutes} min</source>
        <translation>{minutes} 分钟</translation>
    </message>
    <message>
        <source>due {date}</source>
        <translation>期限 {date}</translation>
    </message>
    <message>
        <source>legal due {date}</source>
        <translation>法定期限 {date}</translation>
    </message>
    <message>
        <source>completed without a decision</source>
        <translation>未作决定即办结</translation>
    </message>
    <message>
        <source>{stage} missing</source>
        <translation>缺少“{stage}”环节</translation>
    </message>
    <message>
        <source>{stage} recorded without acceptance</source>
        <translation>未受理即“{stage}”</translation>
    </message>
    <message>
        <source>{stage} recorded after a later stage</source>
        <translation>“{stage}”记录在后续环节之后</translation>
    </message>
    <message>
        <source>another terminal acted first, or the warning rose since</source>
        <translation>其他终端已先处理，或预警已升级</translation>
    </message>
    <message>
        <source>the server does not know this warning</source>
        <translation>服务器没有该预警</translation>
    </message>
    <message>
        <source>outside this terminal's scope</source>
        <translation>超出本终端的监察范围</translation>
    </message>
    <message>
        <source>the server found the action malformed</source>
        <translation>服务器认为该操作格式有误</translation>
    </message>
    <message>
        <source>refused by the server ({code})</source>
        <translation>被服务器拒绝（{code}）</translation>
    </message>
    <message>
        <source>the terminal is stopping; the action was not done</source>
        <translation>终端正在退出，操作未执行</translation>
    </message>
    <message>
        <source>the warning is already {state}</source>
        <translation>该预警{state}</translation>
    </message>
    <message>
        <source>the warning is no longer in force</source>
        <translation>该预警已不存在</translation>
    </message>
    <message>
        <source>a disposal needs a note saying what was done</source>
        <translation>处置须填写处置意见</translation>
    </message>
    <message>
        <source>the operator's name is missing</source>
        <translation>缺少操作员姓名</translation>
    </message>
    <message>
        <source>unknown measure</source>
        <translation>未知的处置方式</translation>
    </message>
    <message>
        <source>the action does not fit the warning's state</source>
        <translation>该操作与预警当前状态不符</translation>
    </message>
    <message>
        <source>the action failed; the log has the details</source>
        <translation>操作失败，详情见日志</translation>
    </message>
</context>
<context>
    <name>_DetailWords</name>
    <message>
        <source>Stages</source>
        <translation>办理环节</translation>
    </message>
    <message>
        <source>Suspensions</source>
        <translation>挂起</translation>
    </message>
    <message>
        <source>Fee check</source>
        <translation>收费核对</translation>
    </message>
    <message>
        <source>Ticket</source>
        <translation>取号</translation>
    </message>
    <message>
        <source>Warnings and their history</source>
        <translation>预警及处理记录</translation>
    </message>
    <message>
        <source>Evaluations</source>
        <translation>评价</translation>
    </message>
    <message>
        <source>Complaints</source>
        <translation>投诉</translation>
    </message>
    <message>
        <source>▶ footage</source>
        <translation>▶ 录像</translation>
    </message>
    <message>
        <source>evidence dossier…</source>
        <translation>证据包…</translation>
    </message>
    <message>
        <source>None</source>
        <translation>无</translation>
    </message>
    <message>
        <source>still open</source>
        <translation>尚未结束</translation>
    </message>
    <message>
        <source>No fee recorded</source>
        <translation>无收费记录</translation>
    </message>
    <message>
        <source>Acknowledged</source>
        <translation>已签收</translation>
    </message>
    <message>
        <source>(not yet sent to the server)</source>
        <translation>（尚未上报服务器）</translation>
    </message>
    <message>
        <source>Window {number}</source>
        <translation>窗口 {number}</translation>
    </message>
    <message>
        <source>Promised by {date}</source>
        <translation>承诺 {date} 前办结</translation>
    </message>
    <message>
        <source>Legal limit {date}</source>
        <translation>法定期限 {date}</translation>
    </message>
    <message>
        <source>Charged {charged} yuan, the standard fee</source>
        <translation>实收 {charged} 元，与标准一致</translation>
    </message>
    <message>
        <source>Charged {charged} yuan, but the standard fee is {fee} yuan</source>
        <translation>实收 {charged} 元，但标准为 {fee} 元</translation>
    </message>
    <message>
        <source>issued {when}</source>
        <translation>{when} 取号</translation>
    </message>
    <message>
        <source>called {when} to window {window}</source>
        <translation>{when} 叫号至 {window} 窗口</translation>
    </message>
    <message>
        <source>raised {when}</source>
        <translation>{when} 发生</translation>
    </message>
    <message>
        <source>red since {when}</source>
        <translation>{when} 起为红牌</translation>
    </message>
    <message>
        <source>cleared {when}</source>
        <translation>{when} 解除</translation>
    </message>
    <message>
        <source>The server refused this terminal's action: {reason}</source>
        <translation>服务器拒绝了本终端的操作：{reason}</translation>
    </message>
</context>
</TS>