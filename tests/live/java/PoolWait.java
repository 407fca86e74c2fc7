// An exhausted Apache HttpClient 4.5 pool, for the thread-dump digest and the handover.
// It leases more connections than its pool holds and never consumes or closes a
// response, so the pool runs dry and the next request waits in
// AbstractConnPool.getPoolEntryBlocking forever; the unread bodies stay in Recv-Q and
// the sockets go CLOSE_WAIT when the server closes them.
//
//   java PoolWait URL POOL              main leases POOL + 1 (main blocks)
//   java PoolWait URL POOL jetty PORT   a Jetty server on 127.0.0.1:PORT whose handler
//                                       leases one per request (handler threads block)
//
// It prints "exhausted" once POOL connections are leased (main) or the server is up
// (jetty), then waits.
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

import org.apache.http.client.methods.CloseableHttpResponse;
import org.apache.http.client.methods.HttpGet;
import org.apache.http.impl.client.CloseableHttpClient;
import org.apache.http.impl.client.HttpClients;
import org.apache.http.impl.conn.PoolingHttpClientConnectionManager;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.handler.AbstractHandler;

public class PoolWait {
	static final List<CloseableHttpResponse> kept = new ArrayList<>();
	static CloseableHttpClient client;
	static String url;

	// The leak: the response is kept, never read to its end nor closed, so its
	// connection never goes back to the pool.
	static int fetch() throws IOException {
		CloseableHttpResponse r = client.execute(new HttpGet(url));
		synchronized (kept) {
			kept.add(r);
			return kept.size();
		}
	}

	static class Proxy extends AbstractHandler {
		@Override
		public void handle(String target, Request base, HttpServletRequest req, HttpServletResponse resp)
				throws IOException {
			int n = fetch();
			resp.setStatus(200);
			resp.getWriter().println("fetched " + n);
			base.setHandled(true);
		}
	}

	public static void main(String[] args) throws Exception {
		url = args[0];
		int pool = Integer.parseInt(args[1]);
		PoolingHttpClientConnectionManager cm = new PoolingHttpClientConnectionManager();
		cm.setMaxTotal(pool);
		cm.setDefaultMaxPerRoute(pool);
		client = HttpClients.custom().setConnectionManager(cm).build();
		if (args.length > 3 && args[2].equals("jetty")) {
			Server server = new Server(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[3])));
			server.setHandler(new Proxy());
			server.start();
			System.out.println("exhausted");
			System.out.flush();
			server.join();
			return;
		}
		for (int i = 0;; i++) {
			if (i == pool) {
				System.out.println("exhausted");
				System.out.flush();
			}
			fetch();
		}
	}
}
