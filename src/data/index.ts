export { DataError } from './errors.js';
export { loadCorpus, DEFAULT_MAX_CORPUS_BYTES, type Corpus, type LoadCorpusOptions } from './corpus.js';
export { listBundled, bundledNames, type BundledInfo } from './bundled.js';
export { CharVocab, type CharVocabJSON } from './vocab.js';
export { splitIds, validateSplit, parseSplit, DEFAULT_SPLIT, type Split, type SplitPercents } from './split.js';
export {
  BatchStream,
  evalWindows,
  type Batch,
  type BatchPosition,
  type EvalWindow,
  type EvalWindows,
} from './batches.js';
export {
  DOCUMENT_MODES,
  corpusDocuments,
  corpusIds,
  documentIds,
  documentVocabulary,
  keepMask,
  splitCorpusIds,
  type DocumentMode,
} from './documents.js';
