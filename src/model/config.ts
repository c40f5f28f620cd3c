export type CellType = 'lstm' | 'gru' | 'rnn';

export const CELL_TYPES: readonly CellType[] = ['lstm', 'gru', 'rnn'];

/** The shape of a model; everything needed to rebuild it from a checkpoint. */
export interface ModelConfig {
  readonly cell: CellType;
  readonly vocabSize: number;
  /** Embedding width; 0 feeds one-hot vectors to the first layer. */
  readonly embed: number;
  readonly hidden: number;
  readonly layers: number;
  /** Dropout probability between stacked layers (PyTorch's placement: not after the last). */
  readonly dropout: number;
}

/** Gate blocks per cell: LSTM i,f,g,o; GRU r,z,n; RNN one. */
export function gateCount(cell: CellType): number {
  return cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
}

/** Width of layer k's input. */
export function layerInputSize(config: ModelConfig, layer: number): number {
  if (layer > 0) return config.hidden;
  return config.embed > 0 ? config.embed : config.vocabSize;
}
