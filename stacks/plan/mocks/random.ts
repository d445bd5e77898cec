import { type MockTable, suffix } from "./types";

export const random: MockTable = {
  outputs: {
    "random:index/randomPassword:RandomPassword": ({ name, inputs }) => ({
      result: `Mock${suffix(name, Number(inputs.length ?? 32))}`.slice(0, Number(inputs.length ?? 32)),
    }),
    "random:index/randomId:RandomId": ({ name }) => ({ hex: suffix(name, 8), b64Url: suffix(name, 8) }),
    "random:index/randomString:RandomString": ({ name, inputs }) => ({ result: suffix(name, Number(inputs.length ?? 8)) }),
  },
  calls: {},
};
