// Preloaded (node --require) into every Node process that the tests, the demo,
// the bench and chaos start, with an IPC channel to the parent. When the
// parent goes away, however it ended (a failed test run, a SIGKILLed demo),
// the channel closes and this process stops too: SIGTERM first, so a service
// can leave its group, then SIGKILL 5 s later. The SIGKILL comes from a
// separate, detached `sleep; kill`: with the parent gone, stdout is a dead
// pipe, and a synchronous log write can block this process's event loop, so
// a timer of its own might never fire.
'use strict';
if (process.channel) {
  // The channel alone must not keep the process alive.
  process.channel.unref();
  process.once('disconnect', () => {
    require('node:child_process')
      .spawn('sh', ['-c', `sleep 5; kill -9 ${process.pid} 2>/dev/null`], {
        detached: true,
        stdio: 'ignore',
      })
      .unref();
    process.kill(process.pid, 'SIGTERM');
  });
}
