// Express with the real `cors` package configured with RegExp origins, for `cors-audit probe`.
//   node probe_express.js PORT LOG
// /prefix/data   origin: /^https:\/\/app\.example\.com/      no `$`: prefix-match
// /suffix/data   origin: /example\.com$/                      no dot boundary: suffix-match
// /dot/data      origin: /^https:\/\/app.example.com$/       unescaped dots: unescaped-dot
// /control/data  origin: ["https://app.example.com"]          exact: nothing to find
// Every request is appended to LOG as one JSON line (server, method, path, Host, Origin, User-Agent, time).
"use strict";

const fs = require("fs");
const express = require("express");
const cors = require("cors");

const port = Number(process.argv[2]);
const log = process.argv[3];
const app = express();

app.use((req, res, next) => {
  const line = {
    server: "express",
    port,
    method: req.method,
    path: req.originalUrl,
    host: req.get("Host") || null,
    origin: req.get("Origin") || null,
    user_agent: req.get("User-Agent") || null,
    time: Date.now() / 1000,
  };
  fs.appendFileSync(log, JSON.stringify(line) + "\n");
  next();
});

const configurations = {
  prefix: /^https:\/\/app\.example\.com/,
  suffix: /example\.com$/,
  dot: /^https:\/\/app.example.com$/,
  control: ["https://app.example.com"],
};
for (const [name, origin] of Object.entries(configurations)) {
  const router = express.Router();
  router.use(cors({ origin, credentials: true }));
  router.get("/data", (req, res) => res.json({ user: "alice" }));
  app.use(`/${name}`, router);
}

app.listen(port, "127.0.0.1", () => console.log(`probe express on 127.0.0.1:${port}`));
