/** Mounts the page in `#root`. */
import { createRoot } from "react-dom/client";
import { Posts } from "./posts.js";

createRoot(document.getElementById("root")!).render(<Posts />);
