// Types of `import … from "keyscope/hono"`: the same declarations as the CommonJS subpath.
export * from "./hono.cjs";
