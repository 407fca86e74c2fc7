// A real Apache HttpClient pool against a real HTTP server, for the live tests.
//
//   java PoolClient URL return THREADS MAX BURST PAUSE_MS
//       healthy: THREADS threads share a pool of MAX connections; each burst makes
//       BURST requests, consumes every response (the connection goes back to the pool)
//       and then pauses PAUSE_MS. A pause longer than the server's keep-alive timeout
//       leaves the idle connections in CLOSE_WAIT until the pool checks them on the
//       next lease and replaces them: returned and replaced, as pools do.
//   java PoolClient URL leak MAX EVERY_MS
//       the leak: one request every EVERY_MS whose response is never read or closed,
//       so its connection is never returned; after MAX of them the pool is exhausted
//       and main waits in AbstractConnPool.getPoolEntryBlocking for ever. The server
//       closes the idle connections at its keep-alive timeout: CLOSE_WAIT, the unread
//       body in Recv-Q.
//   java PoolClient URL close RATE
//       no keep-alive: "Connection: close" on every request, RATE requests a second;
//       the server closes first, so TIME_WAIT fills on its side to a steady state.
// Prints "ready" once the first request has been answered.
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.http.HttpEntity;
import org.apache.http.client.methods.CloseableHttpResponse;
import org.apache.http.client.methods.HttpGet;
import org.apache.http.impl.client.CloseableHttpClient;
import org.apache.http.impl.client.HttpClients;
import org.apache.http.impl.conn.PoolingHttpClientConnectionManager;
import org.apache.http.util.EntityUtils;

public class PoolClient {
	static final AtomicBoolean ready = new AtomicBoolean();

	static void ready() {
		if (ready.compareAndSet(false, true)) {
			System.out.println("ready");
			System.out.flush();
		}
	}

	static CloseableHttpClient pool(int max) {
		PoolingHttpClientConnectionManager cm = new PoolingHttpClientConnectionManager();
		cm.setMaxTotal(max);
		cm.setDefaultMaxPerRoute(max);
		return HttpClients.custom().setConnectionManager(cm).build();
	}

	static void fetch(CloseableHttpClient c, HttpGet get) throws Exception {
		try (CloseableHttpResponse r = c.execute(get)) {
			EntityUtils.consume(r.getEntity());
		}
		ready();
	}

	static void healthy(String url, int threads, int max, int burst, long pause) throws Exception {
		CloseableHttpClient c = pool(max);
		// Long-lived workers, as an application's request threads are.
		Thread[] ts = new Thread[threads];
		for (int i = 0; i < threads; i++) {
			ts[i] = new Thread(() -> {
				for (;;) {
					for (int k = 0; k < burst / threads; k++) {
						try {
							fetch(c, new HttpGet(url));
						} catch (Exception e) {
							System.err.println("request: " + e);
						}
					}
					try {
						Thread.sleep(pause);
					} catch (InterruptedException e) {
						return;
					}
				}
			}, "worker-" + i);
			ts[i].start();
		}
		for (Thread t : ts)
			t.join();
	}

	static void leak(String url, int max, long every) throws Exception {
		CloseableHttpClient c = pool(max);
		java.util.List<CloseableHttpResponse> held = new java.util.ArrayList<>();
		for (;;) {
			// The response is kept (so nothing finalizes it) and never read or closed.
			held.add(c.execute(new HttpGet(url)));
			ready();
			Thread.sleep(every);
		}
	}

	static void close(String url, int rate) throws Exception {
		CloseableHttpClient c = pool(4);
		long gap = 1_000_000_000L / rate, next = System.nanoTime();
		for (;;) {
			HttpGet get = new HttpGet(url);
			get.setHeader("Connection", "close");
			try {
				fetch(c, get);
			} catch (Exception e) {
				System.err.println("request: " + e);
			}
			next += gap;
			long wait = next - System.nanoTime();
			if (wait > 0)
				Thread.sleep(wait / 1_000_000, (int)(wait % 1_000_000));
			else if (wait < -1_000_000_000L)
				next = System.nanoTime(); // behind by more than a second: do not catch up
		}
	}

	public static void main(String[] a) throws Exception {
		switch (a[1]) {
		case "return":
			healthy(a[0], Integer.parseInt(a[2]), Integer.parseInt(a[3]), Integer.parseInt(a[4]),
				Long.parseLong(a[5]));
			break;
		case "leak":
			leak(a[0], Integer.parseInt(a[2]), Long.parseLong(a[3]));
			break;
		case "close":
			close(a[0], Integer.parseInt(a[2]));
			break;
		default:
			throw new IllegalArgumentException("mode: return, leak or close");
		}
	}
}
