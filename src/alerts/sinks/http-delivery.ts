import type { Sink, SinkRequest } from './sink.js';

/**
 * Sends a sink's requests with `fetch` and classifies the outcome. Classification is data, not
 * exceptions: the dispatcher records it and decides when to try again.
 *
 * - 2xx: delivered (for Slack, only when the reply body says `ok`).
 * - 408, 429, 5xx, network errors, timeouts: retriable; the receiver may recover.
 * - any other status: permanent ("dead"); sending the same bytes again cannot succeed.
 *
 * Error texts name the sink and the status, never the URL: Slack URLs and query strings carry secrets.
 */
export type DeliveryOutcome =
  | { readonly result: 'delivered'; readonly httpStatus: number }
  | {
      readonly result: 'retriable' | 'permanent';
      readonly httpStatus: number | null;
      readonly error: string;
    };

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export function classifyStatus(status: number): 'delivered' | 'retriable' | 'permanent' {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 408 || status === 429 || status >= 500) return 'retriable';
  return 'permanent';
}

/** Reply bodies are read for diagnostics only, and capped so a hostile receiver cannot bloat the log. */
const MAX_REPLY_CHARS = 300;

export async function deliverRequests(
  sink: Pick<Sink, 'name' | 'timeoutMs'>,
  requests: readonly SinkRequest[],
  fetchImpl: FetchLike = fetch,
): Promise<DeliveryOutcome> {
  let lastStatus = 0;
  for (const [index, request] of requests.entries()) {
    const which = requests.length > 1 ? ` (request ${index + 1} of ${requests.length})` : '';
    let response: Response;
    let body: string;
    try {
      response = await fetchImpl(request.url, {
        method: 'POST',
        headers: { ...request.headers },
        body: request.body,
        signal: AbortSignal.timeout(sink.timeoutMs),
        // A redirected POST would silently become a GET elsewhere; refuse instead.
        redirect: 'manual',
      });
      body = await response.text();
    } catch (error) {
      return {
        result: 'retriable',
        httpStatus: null,
        error: `sink ${sink.name}${which}: ${networkReason(error)}`,
      };
    }
    lastStatus = response.status;
    const verdict = classifyStatus(response.status);
    if (verdict !== 'delivered') {
      return {
        result: verdict,
        httpStatus: response.status,
        error: `sink ${sink.name}${which}: HTTP ${response.status}${replyExcerpt(body)}`,
      };
    }
    const problem = request.checkReply?.(body) ?? null;
    if (problem !== null) {
      return {
        result: 'permanent',
        httpStatus: response.status,
        error: `sink ${sink.name}${which}: ${problem}`,
      };
    }
  }
  return { result: 'delivered', httpStatus: lastStatus };
}

function replyExcerpt(body: string): string {
  const text = body.replace(/\s+/g, ' ').trim();
  return text === '' ? '' : `: ${text.slice(0, MAX_REPLY_CHARS)}`;
}

/** A reason without the URL: the error name, the system code, the cause's message. */
function networkReason(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return 'timed out';
  const parts: string[] = [];
  for (
    let current: unknown = error, depth = 0;
    current instanceof Error && depth < 4;
    current = current.cause, depth++
  ) {
    const code = (current as NodeJS.ErrnoException).code;
    parts.push(typeof code === 'string' ? code : current.message);
  }
  // undici's messages carry "fetch failed" and socket addresses, never the request path.
  const reason = parts.length === 0 ? String(error) : parts.join(': ');
  return reason.replace(/https?:\/\/\S+/g, '<url>');
}
