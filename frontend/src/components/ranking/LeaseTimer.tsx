/** Time left on the lease; says so (once) when it runs low and when it runs out. */

import { useEffect, useState } from "react";
import { leaseText } from "../../task";

const LOW_MS = 2 * 60 * 1000;

export function LeaseTimer({ expiresAt }: { expiresAt: Date }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, []);
  const left = expiresAt.getTime() - now;
  const level = left <= 0 ? "expired" : left < LOW_MS ? "low" : "ok";
  return (
    <p className={`lease-timer lease-${level}`}>
      <span role="timer" aria-label="Lease time left">
        Lease: {leaseText(left)}
      </span>
      {level === "expired" && (
        <span className="lease-note"> · submitting will try to get the set back</span>
      )}
    </p>
  );
}
