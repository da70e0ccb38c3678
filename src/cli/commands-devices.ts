import { CLI_ACTOR, forgetDevices, listDevices, type DeviceView } from "../auth/index.ts";
import { describeUserAgent } from "../user-agent.ts";
import { JSON_OPTION, printResult, withRuntime, type Command } from "./command.ts";
import { printable, shortTime, table } from "./output.ts";
import { findOrFail } from "./user-lookup.ts";

function deviceTable(devices: readonly DeviceView[]): string {
  return table(
    ["ID", "LAST USED", "TRUSTED SINCE", "IP", "BROWSER"],
    devices.map((device) => [
      device.id, shortTime(device.lastUsedAt), shortTime(device.createdAt), printable(device.ip),
      printable(describeUserAgent(device.userAgent)),
    ]),
  );
}

const devices: Command = {
  name: "user devices",
  synopsis: "<email> [--json]",
  summary: "list the devices a user trusts (they sign in even while the account is locked for new devices)",
  details: ["--json  print {\"devices\": [...]} as the HTTP API does"],
  options: JSON_OPTION,
  args: ["email"],
  run: (io, { values, positionals }) => withRuntime(io, async (runtime) => {
    const user = await findOrFail(runtime, positionals[0] as string);
    const list = await listDevices(runtime.auth, user.id, null);
    return printResult(io, values, { devices: list }, () => list.length > 0 ? deviceTable(list) : `${user.email} trusts no device\n`);
  }),
};

const forget: Command = {
  name: "user forget-devices",
  synopsis: "<email>",
  summary: "forget every device a user trusts (each signs in as a new device again)",
  details: [],
  options: {},
  args: ["email"],
  run: (io, { positionals }) => withRuntime(io, async (runtime) => {
    const user = await findOrFail(runtime, positionals[0] as string);
    const count = await forgetDevices(runtime.auth, user, { by: "cli", client: CLI_ACTOR.client });
    io.stdout.write(`${user.email}: ${count} trusted device${count === 1 ? "" : "s"} forgotten\n`);
    return 0;
  }),
};

export const DEVICE_COMMANDS: readonly Command[] = [devices, forget];
