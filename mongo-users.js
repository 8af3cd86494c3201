// compose.yaml: run once by the mongo image's entrypoint (/docker-entrypoint-initdb.d) on a
// fresh data volume, as the root user MONGO_INITDB_ROOT_USERNAME (tillstream_ops). Creates the
// roles of mongo-roles.json and a user per service with the passwords compose passes in
// (scripts/compose-env generates them). scripts/mongo-users does the same for scripts/services.
const fs = require("fs");
const mainDb = process.env.MAIN_DB || "liquor_pos_main";
const text = fs.readFileSync("/etc/tillstream/mongo-roles.json", "utf8").split("@MAIN_DB@").join(mainDb);
const roles = JSON.parse(text).roles;
const admin = db.getSiblingDB("admin");
for (const [name, privileges] of Object.entries(roles)) {
  if (admin.getRole(name)) {
    admin.updateRole(name, { privileges, roles: [] });
  } else {
    admin.createRole({ role: name, privileges, roles: [] });
  }
}
for (const service of ["api", "projector", "webhooks"]) {
  const user = "tillstream_" + service;
  const pwd = process.env["MONGO_" + service.toUpperCase() + "_PASSWORD"];
  if (!pwd) throw new Error("MONGO_" + service.toUpperCase() + "_PASSWORD is not set");
  const spec = { pwd, roles: [{ role: user, db: "admin" }] };
  if (admin.getUser(user)) admin.updateUser(user, spec);
  else admin.createUser({ user, ...spec });
}
print("tillstream: MongoDB roles and users created");
