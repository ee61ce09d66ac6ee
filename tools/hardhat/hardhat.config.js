// Hardhat Network as pocopool's independent test node (tests/conformance, docs/contracts.md).
// Free gas (base fee 0, gas price 0) so that test keys need no funding; blocks may share a timestamp
// (as LocalChain's blocks do) and the genesis date can be set for the conformance suite's chain time.
const genesis = process.env.POCOPOOL_GENESIS_TIME;
module.exports = {
  networks: {
    hardhat: {
      chainId: Number(process.env.POCOPOOL_CHAIN_ID || 31337),
      hardfork: "cancun",
      allowBlocksWithSameTimestamp: true,
      initialBaseFeePerGas: 0,
      gasPrice: 0,
      accounts: { count: 1 },
      loggingEnabled: false,
      mining: { auto: true, interval: 0 },
      ...(genesis ? { initialDate: new Date(Number(genesis) * 1000).toISOString() } : {}),
    },
  },
};
