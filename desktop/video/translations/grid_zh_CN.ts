<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
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
        <source>Unknown camera {id}</source>
        <translation>未知摄像机 {id}</translation>
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
        <source>no new picture for {seconds} s</source>
        <translation>{seconds} 秒无新画面</translation>
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
        <source>no video for {seconds} s</source>
        <translation>{seconds} 秒无视频</translation>
    </message>
    <message>
        <source>no answer within {seconds} s</source>
        <translation>{seconds} 秒内无应答</translation>
    </message>
    <message>
        <source>connection refused: nothing listens at {address}</source>
        <translation>连接被拒绝：{address} 无服务</translation>
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
        <source>{state}: {reason}</source>
        <translation>{state}：{reason}</translation>
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
    <name>VideoWall</name>
    <message>
        <source>HallWatch video wall</source>
        <translation>HallWatch 视频墙</translation>
    </message>
</context>
</TS>
