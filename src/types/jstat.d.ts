// The part of jstat (no bundled types) the decisions use: decision/statistics.ts.
declare module 'jstat' {
  export const jStat: {
    studentt: { cdf(x: number, dof: number): number };
    erfc(x: number): number;
  };
}
