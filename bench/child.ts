// The benches run servers and load generators in child processes; this waits for a child's first
// meaningful IPC message, or fails on a timeout, an exit or a spawn error, whichever comes first.
import type { ChildProcess } from 'node:child_process';

/**
 * `accept` looks at each message: a value settles the wait with it, an Error fails it, undefined
 * keeps waiting. The child is killed when the wait fails.
 */
export function awaitChild<T>(child: ChildProcess, name: string, timeoutMs: number, accept: (msg: never) => T | Error | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${name} did not start within ${timeoutMs / 1000} s`)), timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      child.off('error', fail);
    };
    const fail = (err: Error) => {
      cleanup();
      child.kill();
      reject(err);
    };
    const onMessage = (msg: unknown) => {
      const outcome = accept(msg as never);
      if (outcome === undefined) return;
      if (outcome instanceof Error) return fail(outcome);
      cleanup();
      resolve(outcome);
    };
    const onExit = (code: number | null) => fail(new Error(`${name} exited at start (code ${code})`));
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.once('error', fail);
  });
}

/** Closing the IPC channel ends a server child (it closes and cleans up first); SIGKILL if it hangs. */
export function stopChild(child: ChildProcess, exited: boolean): Promise<void> {
  if (exited) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 8_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    if (child.connected) child.disconnect();
    else child.kill();
  });
}
