// The hot path module's exports, all taking and returning numbers (see sparse.ts and zero.ts).

export {
  afterWrite,
  allocatedPages,
  freePages,
  init,
  memoryBytes,
  pageFor,
  pageRun,
  pageSize,
  pinPages,
  placeRun,
  presenceEnd,
  scratch,
  settleRun,
  zeroInPage,
} from "./sparse";
export { isZero, isZeroScalar } from "./zero";
