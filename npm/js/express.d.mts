// Types of `import … from "keyscope/express"`: the same declarations as the CommonJS subpath.
export * from "./express.cjs";
