/** Load a Loaded<T> when `key` changes; `reload()` asks again. Signs out on a 401. */

import { useCallback, useEffect, useState } from "react";
import type { Loaded } from "./resource";

export function useLoaded<T>(
  load: () => Promise<Loaded<T>>,
  key: string,
  onSignedOut: () => void,
): [Loaded<T> | null, () => void] {
  const [state, setState] = useState<Loaded<T> | null>(null);
  const [nonce, setNonce] = useState(0);
  useEffect(() => {
    let live = true;
    void load().then((next) => {
      if (!live) return;
      if (next.kind === "signed-out") onSignedOut();
      else setState(next);
    });
    return () => {
      live = false;
    };
    // `load` is recreated each render; `key` names what it loads.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, nonce, onSignedOut]);
  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return [state, reload];
}
