// The part of madge's API the cycle check uses (the package ships no types).
declare module "madge" {
  interface MadgeGraph {
    /** Each cycle as the files on it, relative to the base folder. */
    circular(): string[][];
  }
  export default function madge(path: string | string[], config?: Record<string, unknown>): Promise<MadgeGraph>;
}
