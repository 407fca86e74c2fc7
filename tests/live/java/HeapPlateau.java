// A healthy JVM whose heap grows to its plateau: a cache filling towards a fixed size
// (each second a tenth of what is still missing, so its growth slows), with garbage
// made all the while, so the collector runs and the heap settles where it needs to.
//   java -Xmx256m HeapPlateau MB
// Prints "ready" once started.
public class HeapPlateau {
	public static void main(String[] a) throws Exception {
		int target = Integer.parseInt(a[0]);
		java.util.List<byte[]> cache = new java.util.ArrayList<>();
		long sink = 0;
		System.out.println("ready");
		System.out.flush();
		for (int tick = 0;; tick++) {
			int missing = target - cache.size();
			for (int i = 0; i < (missing + 9) / 10; i++)
				cache.add(new byte[1 << 20]);
			for (int i = 0; i < 400; i++) { // 20 MB of garbage a second
				byte[] g = new byte[50 * 1024];
				g[i % g.length] = (byte)i;
				sink += g[(i * 7) % g.length];
			}
			Thread.sleep(1000);
			if (sink == 42)
				System.out.println(sink);
		}
	}
}
