// A JVM for the handover test: eight worker threads blocked on one lock that main
// holds, so a thread dump (SIGQUIT) shows them BLOCKED at Blocked.handle.
public class Blocked {
	static final Object lock = new Object();

	static void handle() {
		synchronized (lock) {
			System.out.println("never");
		}
	}

	public static void main(String[] args) throws Exception {
		synchronized (lock) {
			for (int i = 0; i < 8; i++) {
				Thread t = new Thread(Blocked::handle, "worker-" + i);
				t.setDaemon(true);
				t.start();
			}
			Thread.sleep(500);
			System.out.println("ready");
			System.out.flush();
			Thread.sleep(600_000);
		}
	}
}
