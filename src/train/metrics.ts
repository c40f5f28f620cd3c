/** Metrics derived from a mean loss in nats per token, as DESIGN.md defines them. */
export interface LossMetrics {
  /** Nats per token. */
  readonly loss: number;
  /** e^loss. */
  readonly ppl: number;
  /** Bits per character: loss / ln 2 (per token for BPE models). */
  readonly bpc: number;
  /** Total bits over the UTF-8 bytes of the same text: comparable across tokenisations. */
  readonly bitsPerByte: number;
}

export function lossMetrics(totalNats: number, tokens: number, bytes: number): LossMetrics {
  const loss = totalNats / tokens;
  return { loss, ppl: Math.exp(loss), bpc: loss / Math.LN2, bitsPerByte: totalNats / Math.LN2 / bytes };
}
