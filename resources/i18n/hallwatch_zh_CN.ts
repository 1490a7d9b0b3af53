<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="zh_CN">
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
    <name>FootagePlayer</name>
    <message>
        <source>Footage — %1</source>
        <translation>录像 — %1</translation>
    </message>
    <message>
        <source>Play</source>
        <translation>播放</translation>
    </message>
    <message>
        <source>−10 s</source>
        <translation>后退 10 秒</translation>
    </message>
    <message>
        <source>+10 s</source>
        <translation>前进 10 秒</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>keyframes only</source>
        <translation>仅关键帧</translation>
    </message>
</context>
<context>
    <name>OperatorWindow</name>
    <message>
        <source>Cameras</source>
        <translation>摄像机</translation>
    </message>
    <message>
        <source>Supervision</source>
        <translation>监察</translation>
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
        <source>&amp;Full screen</source>
        <translation>全屏(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Detach grid to its own window</source>
        <translation>视频墙独立窗口(&amp;D)</translation>
    </message>
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
        <source>No footage</source>
        <translation>没有录像</translation>
    </message>
    <message>
        <source>This terminal does not record.</source>
        <translation>本终端不录像。</translation>
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
        <source>Starting the demo hall: server, cameras and recording…</source>
        <translation>正在启动演示大厅：服务器、摄像机和录像…</translation>
    </message>
    <message>
        <source>Starting cameras, recording and sync…</source>
        <translation>正在启动摄像机、录像和同步…</translation>
    </message>
    <message>
        <source>HallWatch could not start: %1</source>
        <translation>HallWatch 无法启动：%1</translation>
    </message>
</context>
<context>
    <name>Status</name>
    <message>
        <source>connecting</source>
        <translation>正在连接</translation>
    </message>
    <message>
        <source>live</source>
        <translation>实时</translation>
    </message>
    <message>
        <source>stalled</source>
        <translation>画面停滞</translation>
    </message>
    <message>
        <source>reconnecting</source>
        <translation>正在重连</translation>
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
    <name>VideoWall</name>
    <message>
        <source>HallWatch video wall</source>
        <translation>HallWatch 视频墙</translation>
    </message>
</context>
<context>
    <name>_Screen</name>
    <message>
        <source>No footage here: %1</source>
        <translation>此处无录像：%1</translation>
    </message>
    <message>
        <source>Loading footage…</source>
        <translation>正在加载录像…</translation>
    </message>
</context>
</TS>