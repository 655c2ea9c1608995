// The vectors through `require("keyscope")`.
require("./vectors-runner.cjs")(require("keyscope"), "CommonJS");
