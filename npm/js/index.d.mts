// The ES module entries' types: the named exports, and the API object as the default export.
import * as keyscope from "./api.cjs";
export * from "./api.cjs";
export default keyscope;
